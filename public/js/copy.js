// Copy buttons of code blocks: copies the text of the element named by data-copy-target.
(function () {
  'use strict';
  var status = document.getElementById('copy-status');

  function say(text) {
    if (status) status.textContent = text;
  }

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  // Older browsers and plain-HTTP pages on a LAN address have no clipboard API.
  function fallback(el) {
    selectText(el);
    try {
      return document.execCommand('copy');
    } catch (e) {
      return false;
    }
  }

  function done(button, ok, el) {
    button.textContent = ok ? 'Copied' : 'Press Ctrl+C';
    button.setAttribute('data-copied', ok ? 'yes' : 'no');
    say(ok ? 'Copied to the clipboard.' : 'The text is selected: press Ctrl+C to copy it.');
    if (!ok) selectText(el);
    clearTimeout(button._reset);
    button._reset = setTimeout(function () {
      button.textContent = 'Copy';
      button.removeAttribute('data-copied');
    }, 2500);
  }

  document.querySelectorAll('button.copy[data-copy-target]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var el = document.getElementById(button.getAttribute('data-copy-target'));
      if (!el) return;
      var text = el.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { done(button, true, el); },
          function () { done(button, fallback(el), el); }
        );
      } else {
        done(button, fallback(el), el);
      }
    });
  });
})();
