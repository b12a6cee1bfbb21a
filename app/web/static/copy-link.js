/* Jalon — "Copier le lien" buttons, a progressive enhancement.
 *
 * A button marked data-copy="<input id>" stays hidden without JavaScript (the link can
 * still be selected and copied by hand); with it, a tap copies the input's text and says
 * so in the element marked data-copy-status="<input id>" (a polite live region, kept in the
 * page while empty so that screen readers announce what is written into it); when copying is
 * refused, the link is selected and the region says how to copy it by hand. */
(function () {
  "use strict";
  function say(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) { status.textContent = text; }
  }

  function copy(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value);
    }
    input.focus();
    input.select();
    var done = document.execCommand && document.execCommand("copy");
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  var buttons = document.querySelectorAll("[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    var button = buttons[i];
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { continue; }
    button.hidden = false;
    button.addEventListener("click", function (event) {
      var current = event.currentTarget;
      var id = current.getAttribute("data-copy");
      var field = document.getElementById(id);
      copy(field).then(function () {
        say(id, current.getAttribute("data-copied") || "");
      }, function () {
        field.focus();
        field.select();
        say(id, current.getAttribute("data-copy-failed") || "");
      });
    });
  }
  var inputs = document.querySelectorAll(".copy-field input[readonly]");
  for (var j = 0; j < inputs.length; j++) {
    inputs[j].addEventListener("focus", function (event) { event.currentTarget.select(); });
  }
})();
