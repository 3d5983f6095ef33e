// The console's few behaviours; no inline script anywhere (the CSP allows none): htmx does the requests.
(function () {
  'use strict';
  // Keyboard on lists marked data-keys="rows": j/k (or arrows) move, Enter opens the row's data-href.
  function rows() { var t = document.querySelector('[data-keys="rows"]'); return t ? Array.prototype.slice.call(t.querySelectorAll('tr[data-href]')) : []; }
  function select(list, i) {
    list.forEach(function (r) { r.classList.remove('selected'); r.removeAttribute('aria-selected'); });
    var r = list[i]; if (!r) return;
    r.classList.add('selected'); r.setAttribute('aria-selected', 'true'); r.scrollIntoView({ block: 'nearest' });
  }
  document.addEventListener('keydown', function (e) {
    var tag = (e.target && e.target.tagName) || '';
    if (/^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(tag) || e.metaKey || e.ctrlKey || e.altKey) return;
    // A form marked data-shortcut="p" (a <details>): its key opens it and puts the cursor in its first field.
    var target = e.key.length === 1 ? document.querySelector('[data-shortcut="' + e.key.toLowerCase() + '"]') : null;
    if (target) {
      if (target.tagName === 'DETAILS') target.open = true;
      // The first field still empty (the others come filled with what is likely: the open amount, a date), else the first.
      var fields = Array.prototype.slice.call(target.querySelectorAll('input:not([type="hidden"]), select, textarea'));
      var field = fields.find(function (f) { return f.value === ''; }) || fields[0];
      if (field) field.focus();
      e.preventDefault();
      return;
    }
    var list = rows(); if (!list.length) return;
    var i = list.findIndex(function (r) { return r.classList.contains('selected'); });
    if (e.key === 'j' || e.key === 'ArrowDown') { select(list, Math.min(i + 1, list.length - 1)); e.preventDefault(); }
    else if (e.key === 'k' || e.key === 'ArrowUp') { select(list, Math.max(i - 1, 0)); e.preventDefault(); }
    else if (e.key === 'Enter' && i >= 0) { window.location.assign(list[i].getAttribute('data-href')); e.preventDefault(); }
  });
  document.addEventListener('click', function (e) {
    var row = e.target && e.target.closest ? e.target.closest('tr[data-href]') : null;
    if (row && !(e.target.closest('a,button,input,select,textarea,label'))) window.location.assign(row.getAttribute('data-href'));
  });
  // Charts: <canvas data-chart='{"type":"bar","data":{...}}'> (Chart.js, loaded by the pages that draw).
  function drawCharts(root) {
    if (!window.Chart) return;
    Array.prototype.forEach.call((root || document).querySelectorAll('canvas[data-chart]'), function (c) {
      if (c.dataset.drawn) return; c.dataset.drawn = '1';
      try { new window.Chart(c, JSON.parse(c.getAttribute('data-chart'))); } catch (err) { console.error('chart', err); }
    });
  }
  document.addEventListener('DOMContentLoaded', function () { drawCharts(document); });
  document.addEventListener('htmx:afterSettle', function (e) { drawCharts(e.target); });
  window.addEventListener('load', function () { drawCharts(document); });
})();
