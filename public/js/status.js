// Keeps the Status page's lights current from the server-sent event stream.
(function () {
  'use strict';
  var words = { green: 'working', orange: 'starting', red: 'needs attention', off: 'not configured' };
  var tbody = document.querySelector('#components tbody');
  var hint = document.getElementById('live-hint');
  if (!tbody || !window.EventSource) return;

  function row(id) {
    var found = tbody.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
    if (found) return found;
    var tr = document.createElement('tr');
    tr.setAttribute('data-id', id);
    tr.innerHTML = '<td class="name"></td><td class="state"><span class="light" role="img"></span> <span class="light-word"></span></td><td class="detail"></td><td class="since"><time></time></td>';
    tbody.appendChild(tr);
    return tr;
  }

  function show(s) {
    var tr = row(s.id);
    tr.querySelector('.name').textContent = s.name;
    var light = tr.querySelector('.light');
    light.className = 'light light-' + s.light;
    light.setAttribute('aria-label', s.light);
    tr.querySelector('.light-word').textContent = words[s.light] || s.light;
    tr.querySelector('.detail').textContent = s.detail;
    var iso = new Date(s.since).toISOString();
    var time = tr.querySelector('time');
    time.setAttribute('datetime', iso);
    time.textContent = iso.replace('T', ' ').slice(0, 19) + ' UTC';
  }

  // The overall line follows the lights: any red light means something needs attention.
  function summarize() {
    var overall = document.getElementById('overall');
    if (!overall) return;
    var red = tbody.querySelector('.light-red') !== null;
    overall.className = red ? 'overall-degraded' : 'overall-ok';
    overall.textContent = red ? 'something needs attention' : 'all working';
  }

  var source = new EventSource('/status/events');
  source.addEventListener('status', function (e) { show(JSON.parse(e.data)); summarize(); });
  source.addEventListener('removed', function (e) {
    var tr = tbody.querySelector('tr[data-id="' + CSS.escape(JSON.parse(e.data).id) + '"]');
    if (tr) tr.remove();
    summarize();
  });
  source.onopen = function () { if (hint) hint.textContent = 'Live: the lights update by themselves.'; document.body.setAttribute('data-live', 'on'); };
  source.onerror = function () { if (hint) hint.textContent = 'Live updates paused; reconnecting…'; document.body.setAttribute('data-live', 'off'); };
})();
