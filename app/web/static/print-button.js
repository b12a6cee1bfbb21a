/* Jalon — "Imprimer" buttons, a progressive enhancement.
 *
 * Buttons marked data-print stay hidden without JavaScript (the browser's own print menu
 * still works); with it, they show and open the print dialog. */
(function () {
  "use strict";
  if (typeof window.print !== "function") { return; }
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
