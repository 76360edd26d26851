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
