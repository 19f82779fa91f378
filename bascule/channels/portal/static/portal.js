// Bascule portal: small progressive enhancements only; every page works without JavaScript.
(function () {
  "use strict";
  // USSD simulator: an on-screen keypad that types into the answer field.
  document.querySelectorAll(".keypad").forEach(function (pad) {
    var target = document.getElementById(pad.getAttribute("data-target"));
    if (!target) { return; }
    pad.hidden = false;
    pad.addEventListener("click", function (event) {
      var key = event.target.closest("[data-key]");
      if (!key) { return; }
      target.value += key.getAttribute("data-key");
      target.focus();
    });
  });
  // Forms that change something: one click only (no double submission while the page loads).
  document.querySelectorAll("form[method='post']").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type='submit']");
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
  });
})();
