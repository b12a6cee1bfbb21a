/* Jalon — read aloud (REQUIREMENTS ACC-03), a progressive enhancement.
 *
 * Buttons marked data-read-aloud="<id>" stay hidden unless the browser can speak; a tap
 * reads the text of the element <id> (buttons left out), a second tap stops. */
(function () {
  "use strict";
  if (!("speechSynthesis" in window) || typeof window.SpeechSynthesisUtterance !== "function") { return; }
  var lang = document.documentElement.getAttribute("lang") || "fr";

  function textOf(id) {
    var target = document.getElementById(id);
    if (!target) { return ""; }
    var copy = target.cloneNode(true);
    var skip = copy.querySelectorAll("button, script, [aria-hidden=true]");
    for (var i = 0; i < skip.length; i++) { skip[i].parentNode.removeChild(skip[i]); }
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  var speaking = null;
  function stop() {
    window.speechSynthesis.cancel();
    if (speaking) { speaking.setAttribute("aria-pressed", "false"); }
    speaking = null;
  }

  var buttons = document.querySelectorAll("[data-read-aloud]");
  for (var i = 0; i < buttons.length; i++) {
    var button = buttons[i];
    button.hidden = false;
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", function (event) {
      var current = event.currentTarget;
      var wasMine = speaking === current;
      stop();
      if (wasMine) { return; }
      var utterance = new window.SpeechSynthesisUtterance(textOf(current.getAttribute("data-read-aloud")));
      utterance.lang = lang === "fr" ? "fr-FR" : lang;
      utterance.onend = function () { if (speaking === current) { stop(); } };
      speaking = current;
      current.setAttribute("aria-pressed", "true");
      window.speechSynthesis.speak(utterance);
    });
  }
})();
