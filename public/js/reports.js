// Reports: a chosen CSV file fills the deck import's text area (no upload plugin needed);
// Remove on the decks page asks first.
document.querySelectorAll('input[type=file][data-fills]').forEach((input) => {
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    const target = document.getElementById(input.dataset.fills);
    if (!file || !target) return;
    file.text().then((text) => {
      target.value = text;
    });
  });
});

// Remove a deck: ask here, then post with the page's CSRF token (without JavaScript the
// button's GET leads to a page that asks).
{
const csrf = document.querySelector('input[name=_csrf]');
document.querySelectorAll('form.remove-deck').forEach((form) => {
  form.addEventListener('submit', (e) => {
    if (!csrf) return;
    e.preventDefault();
    if (!window.confirm(form.dataset.confirm)) return;
    const post = document.createElement('form');
    post.method = 'post';
    post.action = form.getAttribute('action');
    for (const [name, value] of [['_csrf', csrf.value], ...new FormData(form)]) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      post.appendChild(input);
    }
    document.body.appendChild(post);
    post.submit();
  });
});
}
