// Live QR scan on /verifier, as an extra: only where the browser can read QR codes itself
// (BarcodeDetector) and has a camera. Without it, the photo upload does the same job.
(function () {
  "use strict";
  var box = document.querySelector("[data-scan]");
  if (!box || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var start = box.querySelector("[data-scan-start]");
  var video = box.querySelector("[data-scan-video]");
  var status = box.querySelector("[data-scan-status]");
  var input = document.getElementById("lien");
  box.hidden = false;
  start.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" } })
      .then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        status.textContent = "Visez le QR code du badge.";
        return video.play().then(function () {
          var tick = function () {
            detector.detect(video).then(function (codes) {
              if (codes.length) {
                stream.getTracks().forEach(function (t) { t.stop(); });
                input.value = codes[0].rawValue;
                status.textContent = "QR code lu : vérification…";
                input.form.submit();
              } else {
                window.requestAnimationFrame(tick);
              }
            }, function () { window.requestAnimationFrame(tick); });
          };
          tick();
        });
      })
      .catch(function () {
        status.textContent = "La caméra n'est pas disponible : envoyez plutôt une photo du QR code.";
      });
  });
})();
