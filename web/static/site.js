/* Progressive enhancement only: every page works without this script. */
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  /* Confirm destructive actions (forms marked data-confirm). */
  document.querySelectorAll('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.confirm(f.getAttribute('data-confirm'))) e.preventDefault();
    });
  });
  /* Focus the first field with an error, so keyboard and screen-reader users land on it. */
  var bad = document.querySelector('[aria-invalid=true]');
  if (bad) bad.focus();
});

/* Console: a new token's secret (shown once) is selected when focused, ready to copy. */
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('input.secret').forEach(function (i) {
    i.addEventListener('focus', function () { i.select(); });
  });
});

/* ---- member portal (pages_casework.c): a confirmed delete says so ----
 * A form with data-confirm and a hidden input "confirmed" (the diary's delete) gets
 * confirmed=yes once the visitor said yes in the dialog above, so the server deletes at
 * once; without this script the server shows its own confirmation page instead. */
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('form[data-confirm] input[name=confirmed]').forEach(function (i) {
    i.form.addEventListener('submit', function (e) {
      if (!e.defaultPrevented) i.value = 'yes';
    });
  });
});

/* ---- section tabs: the tab of the page shown is marked as current ---- */
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('nav.tabs.section a').forEach(function (a) {
    if (a.getAttribute('href') === window.location.pathname) a.setAttribute('aria-current', 'page');
  });
});

/* ---- browser tests (tests/browser/journeys/phone.mjs): a table wider than the screen ----
 * A .table-wrap whose table overflows scrolls sideways; a keyboard user can scroll it only if it
 * can take focus (axe: scrollable-region-focusable).  Only wraps that overflow now get a Tab
 * stop, named after the table's caption or the heading before it; checked again on resize. */
(function () {
  function label(w) {
    var cap = w.querySelector('caption');
    if (cap) return cap.textContent.trim();
    for (var e = w.previousElementSibling; e; e = e.previousElementSibling)
      if (/^H[1-6]$/.test(e.tagName)) return e.textContent.trim();
    return '';
  }
  function mark() {
    document.querySelectorAll('.table-wrap').forEach(function (w) {
      if (w.scrollWidth > w.clientWidth + 1) {
        if (!w.hasAttribute('tabindex')) {
          w.setAttribute('tabindex', '0');
          w.setAttribute('role', 'group');
          var l = label(w);
          if (l) w.setAttribute('aria-label', l);
        }
      } else if (w.getAttribute('role') === 'group' && w.getAttribute('tabindex') === '0') {
        w.removeAttribute('tabindex');
        w.removeAttribute('role');
        w.removeAttribute('aria-label');
      }
    });
  }
  document.addEventListener('DOMContentLoaded', mark);
  window.addEventListener('resize', mark);
})();
