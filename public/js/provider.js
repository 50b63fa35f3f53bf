// The Telegram provider page: lights and details follow the server-sent event stream; when
// a component moves to another step (e.g. connected -> authorization needed) the page reloads
// to show that step's form, unless the admin is typing into a form. Remove asks first.
(function () {
  'use strict';
  var hint = document.getElementById('live-hint');

  function typing() {
    var inputs = document.querySelectorAll('.component input:not([type=hidden]), form.add-number input, #provider-settings input, #provider-settings textarea');
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      var edited = el.type === 'checkbox' ? el.checked !== el.defaultChecked : el.value !== el.defaultValue;
      if (el === document.activeElement || edited) return true;
    }
    return false;
  }

  function setLight(el, light) {
    if (!el) return;
    el.className = 'light light-' + light;
    el.setAttribute('aria-label', light);
  }

  function showSummary(summary) {
    var box = document.getElementById('summary');
    if (!box) return;
    box.className = 'card section provider-summary summary-' + summary.light;
    box.setAttribute('data-light', summary.light);
    setLight(box.querySelector('.light'), summary.light);
    document.getElementById('summary-message').textContent = summary.linesConnected ? 'Lines connected' : summary.message;
    var list = document.getElementById('summary-problems');
    if (!list) {
      list = document.createElement('ul');
      list.id = 'summary-problems';
      list.className = 'summary-problems';
      box.insertBefore(list, hint);
    }
    list.textContent = '';
    summary.problems.forEach(function (p) {
      var li = document.createElement('li');
      li.textContent = p;
      list.appendChild(li);
    });
  }

  // Returns true when the page shows another set of numbers or another step than the state.
  function showNumbers(numbers) {
    var stale = document.querySelectorAll('article.number').length !== numbers.length;
    numbers.forEach(function (n) {
      var article = document.getElementById('line-' + n.id);
      if (!article) { stale = true; return; }
      ['gateway', 'client', 'bot'].forEach(function (kind) {
        var c = n.components[kind];
        var box = document.getElementById('line-' + n.id + '-' + kind);
        if (!box) { stale = true; return; }
        if (box.getAttribute('data-phase') !== c.phase) stale = true;
        // A new QR login token: the page draws its QR code.
        if (c.phase === 'qr' && box.getAttribute('data-qr') !== c.prompt) stale = true;
        box.setAttribute('data-light', c.light);
        setLight(box.querySelector('.light'), c.light);
        box.querySelector('.detail').textContent = c.detail;
      });
    });
    return stale;
  }

  // Once a form is on its way, the page is about to change anyway: a reload now would cancel it.
  var leaving = false;
  window.addEventListener('submit', function (e) { if (!e.defaultPrevented) leaving = true; });
  window.addEventListener('beforeunload', function () { leaving = true; });

  if (window.EventSource) {
    var source = new EventSource('/provider/events');
    source.addEventListener('provider', function (e) {
      if (leaving) return;
      var state = JSON.parse(e.data);
      showSummary(state.summary);
      if (showNumbers(state.numbers)) {
        if (typing()) { if (hint) hint.textContent = 'Something changed: reload the page to see the next step.'; }
        else window.location.reload();
      }
    });
    source.onopen = function () { if (hint) hint.textContent = 'Live: the lights update by themselves.'; document.body.setAttribute('data-live', 'on'); };
    source.onerror = function () { if (hint) hint.textContent = 'Live updates paused; reconnecting…'; document.body.setAttribute('data-live', 'off'); };
  }

  // Remove: ask here, then post with the page's CSRF token (without JavaScript a page asks).
  var csrf = document.querySelector('input[name=_csrf]');
  document.querySelectorAll('form.remove-number').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      if (!csrf) return;
      e.preventDefault();
      if (!window.confirm(form.getAttribute('data-confirm'))) return;
      var post = document.createElement('form');
      post.method = 'post';
      post.action = form.getAttribute('action');
      var token = document.createElement('input');
      token.type = 'hidden';
      token.name = '_csrf';
      token.value = csrf.value;
      post.appendChild(token);
      document.body.appendChild(post);
      leaving = true;
      post.submit();
    });
  });
})();
