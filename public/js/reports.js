// Reports: a chosen CSV file fills the deck import's text area (no upload plugin needed).
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
