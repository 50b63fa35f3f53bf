// Copy buttons: copies the text of the element named by data-copy-target (a code block,
// a link), or the value of an input there (e.g. a hidden input holding an activation key
// that the page shows only masked).
(function () {
  'use strict';
  var status = document.getElementById('copy-status');

  function say(text) {
    if (status) status.textContent = text;
  }

  function isInput(el) {
    return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA';
  }

  function textOf(el) {
    return isInput(el) ? el.value : el.textContent;
  }

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  // An input's value (hidden ones too) is copied through a short-lived textarea off screen.
  function copyValue(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'copy-scratch';
    document.body.appendChild(area);
    area.select();
    try {
      return document.execCommand('copy');
    } catch (e) {
      return false;
    } finally {
      document.body.removeChild(area);
    }
  }

  // Older browsers and plain-HTTP pages on a LAN address have no clipboard API.
  function fallback(el) {
    if (isInput(el)) return copyValue(el.value);
    selectText(el);
    try {
      return document.execCommand('copy');
    } catch (e) {
      return false;
    }
  }

  // When nothing could copy, show the text selected so that Ctrl+C does it.
  function offerByHand(el) {
    if (!isInput(el)) return selectText(el);
    if (el.type === 'hidden') {
      el.type = 'text';
      el.readOnly = true;
      el.className = 'copy-revealed';
    }
    el.select();
  }

  function done(button, ok, el) {
    button.textContent = ok ? 'Copied' : 'Press Ctrl+C';
    button.setAttribute('data-copied', ok ? 'yes' : 'no');
    say(ok ? 'Copied to the clipboard.' : 'The text is selected: press Ctrl+C to copy it.');
    if (!ok) offerByHand(el);
    clearTimeout(button._reset);
    button._reset = setTimeout(function () {
      button.textContent = button._label;
      button.removeAttribute('data-copied');
    }, 2500);
  }

  document.querySelectorAll('button.copy[data-copy-target]').forEach(function (button) {
    button._label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', function () {
      var el = document.getElementById(button.getAttribute('data-copy-target'));
      if (!el) return;
      var text = textOf(el);
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
