/* A form sent back with errors: its error summary takes the focus, so a screen reader
   reads it first and a keyboard starts from it (GOV.UK's pattern). Each problem links
   to its field; a link to a group of boxes (a fieldset takes no focus) focuses its
   first box. Without script the page works as before: the summary is role="alert" at
   the top and its links lead to the fields. Our own code, served from 'self' (the CSP). */
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target || target.matches("input, select, textarea, button, a[href], [tabindex]")) return;
    var control = target.querySelector("input:not([type=hidden]), select, textarea");
    if (!control) return;
    event.preventDefault();
    target.scrollIntoView();
    control.focus({ preventScroll: true });
  });
})();
