// The cadence editor (api/console/views/cadence.eta): an issue's "line N" link selects that line of the JSON in
// the textarea and scrolls to it. Without this file the link still leads to the textarea.
(function () {
  'use strict';
  document.addEventListener('click', function (event) {
    var link = event.target instanceof Element ? event.target.closest('a[data-line]') : null;
    var textarea = document.getElementById('definition');
    if (!link || !textarea) return;
    event.preventDefault();
    var line = Math.max(1, Number(link.getAttribute('data-line')) || 1);
    var column = Number(link.getAttribute('data-column')) || 0;
    var lines = textarea.value.split('\n');
    var n = Math.min(line, lines.length);
    var start = 0;
    for (var i = 0; i < n - 1; i++) start += lines[i].length + 1;
    var end = start + lines[n - 1].length;
    textarea.focus();
    if (column > 0) textarea.setSelectionRange(Math.min(start + column - 1, end), Math.min(start + column, end));
    else textarea.setSelectionRange(start, end);
    var lineHeight = parseFloat(window.getComputedStyle(textarea).lineHeight) || 16;
    textarea.scrollTop = Math.max(0, (n - 4) * lineHeight);
    textarea.scrollIntoView({ block: 'center' });
  });
})();
