/* Jalon — offline capture (progressive enhancement; the pages work without it).
 *
 * When the phone has no network, a capture is kept on the device (localStorage) with its
 * author and its idempotency key, and sent through the API when the network returns, with a
 * short-lived capture token tied to the signed-in session. Items wait for their own author:
 * on a shared phone, nobody sends someone else's observations. */
(function () {
  "use strict";
  var QUEUE = "jalon.capture.queue.v1";
  var body = document.body;
  var user = body.getAttribute("data-user");
  if (!user || !window.localStorage || !window.fetch) { return; }

  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function save(queue) { localStorage.setItem(QUEUE, JSON.stringify(queue)); }
  function mine(queue) { return queue.filter(function (i) { return i.author === user; }); }
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return String(Date.now()) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function render(note, reveal) {
    var queue = load();
    var own = mine(queue).length;
    var others = queue.length - own;
    var parts = [];
    if (own) { parts.push(own === 1 ? "1 observation pas encore envoyée." : own + " observations pas encore envoyées."); }
    if (others) { parts.push(others === 1 ? "1 saisie attend une autre personne sur ce téléphone." : others + " saisies attendent une autre personne sur ce téléphone."); }
    if (note) { parts.unshift(note); }
    var boxes = document.querySelectorAll("[data-pending]");
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].textContent = parts.join(" ");
      boxes[i].hidden = parts.length === 0;
    }
    /* The box sits at the top of the page and the save button at the bottom: bring it
       into view, or a tap on « Enregistrer » would seem to do nothing. */
    if (reveal && boxes.length && parts.length) { boxes[0].scrollIntoView({ block: "center" }); }
  }

  /* "2026-11-20T14:30", a wall-clock time of the structure's time zone, as an ISO instant.
     The phone may be set to another zone than the structure: never read it as phone time. */
  function zonedToIso(local, zone) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
    if (!m) { return new Date().toISOString(); }
    var wall = Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5]);
    try {
      var format = new Intl.DateTimeFormat("en-US", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
      var offset = function (t) {
        var p = {};
        format.formatToParts(new Date(t)).forEach(function (x) { p[x.type] = x.value; });
        return Date.UTC(+p.year, p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second) - t;
      };
      return new Date(wall - offset(wall - offset(wall))).toISOString();
    } catch (e) {
      return new Date(local).toISOString();   /* no time zone support: phone time */
    }
  }

  function payloadOf(form) {
    var data = new FormData(form);
    var level = data.get("level");
    var when = form.querySelector("[name=observed_at]");
    var items = data.getAll("w").map(function (worker) {
      var own = data.get("level_" + worker) || level;
      return {
        worker: worker,
        competence: data.get("competence"),
        level: own === "non_observe" || own === null ? null : parseInt(own, 10),
        comment: data.get("comment") || null
      };
    });
    return {
      author: user,
      situation: data.get("situation"),
      /* untouched, the field still holds the time the page was opened (and an offline page
         cannot be reloaded for the next capture): use the time of this capture */
      observed_at: when && when.value && when.value !== when.getAttribute("data-opened") ?
        zonedToIso(when.value, when.getAttribute("data-timezone")) : new Date().toISOString(),
      items: items
    };
  }

  /* "Julie Moreau — Organiser", to name a capture the server refused. */
  function labelOf(form) {
    var title = document.querySelector("h1");
    var tile = form.querySelector("input[name=competence]:checked");
    var label = tile && form.querySelector("label[for='" + tile.id + "']");
    return [title ? title.textContent.replace(/^Observer /, "") : "", label ? label.textContent : ""]
      .map(function (t) { return t.trim(); }).filter(Boolean).join(" — ");
  }

  var form = document.querySelector("form[data-capture]");
  if (form) {
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) { return; }            /* online: the normal form post */
      event.preventDefault();
      if (!form.querySelector("input[name=competence]:checked") ||
          !form.querySelector("input[name=level]:checked")) {
        render("Choisissez une compétence et un niveau.", true);
        return;
      }
      var payload = payloadOf(form);
      if (new Date(payload.observed_at).getTime() > Date.now() + 60000) {
        render("La date d'observation ne peut pas être dans le futur.", true);
        return;
      }
      var queue = load();
      queue.push({
        key: form.querySelector("[name=idempotency_key]").value,
        structure: body.getAttribute("data-structure"),
        author: user,
        label: labelOf(form),
        payload: payload,
        queued_at: new Date().toISOString()
      });
      save(queue);
      /* ready for the next capture: nothing of this one (comment, date, levels) carries over */
      form.reset();
      form.querySelector("[name=idempotency_key]").value = newKey();
      var checked = form.querySelectorAll("input[type=radio]:checked");
      for (var i = 0; i < checked.length; i++) { checked[i].checked = false; }
      render("Pas de réseau : l'observation est gardée sur ce téléphone. Elle partira quand le réseau reviendra.", true);
    });
  }

  var sending = false;
  function csrf() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  function flush() {
    var own = mine(load());
    if (sending || !own.length || !navigator.onLine) { render(); return; }
    sending = true;
    fetch("/s/" + own[0].structure + "/jeton-saisie", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("token " + response.status); }
      return response.json();
    }).then(function (grant) {
      var refused = [];
      return own.reduce(function (chain, item) {
        return chain.then(function (sent) {
          return fetch("/api/v1/structures/" + item.structure + "/observations", {
            method: "POST", credentials: "same-origin",
            headers: {
              "Authorization": "Bearer " + grant.token,
              "Idempotency-Key": item.key,
              "Content-Type": "application/json"
            },
            body: JSON.stringify(item.payload)
          }).then(function (response) {
            if (response.status >= 500 || response.status === 401 || response.status === 429) {
              throw new Error("retry later " + response.status);
            }
            /* stored (201), already stored (200), or refused for good (4xx): leave the queue,
               and say which one was refused and why, so that it can be done again */
            save(load().filter(function (i) { return i.key !== item.key || i.author !== item.author; }));
            if (response.ok) { return sent + 1; }
            return response.json().catch(function () { return {}; }).then(function (error) {
              refused.push((item.label || "Une observation") + " : " +
                (error.message || "refusée (" + response.status + ")"));
              return sent;
            });
          });
        });
      }, Promise.resolve(0)).then(function (sent) { return { sent: sent, refused: refused }; });
    }).then(function (outcome) {
      sending = false;
      var notes = [];
      if (outcome.sent) {
        notes.push(outcome.sent === 1 ? "1 observation envoyée." : outcome.sent + " observations envoyées.");
      }
      if (outcome.refused.length) {
        notes.push("Pas enregistrée, à refaire : " + outcome.refused.join(" "));
      }
      render(notes.join(" "));
    }).catch(function () { sending = false; render(); });
  }

  var logouts = document.querySelectorAll("form[data-logout]");
  for (var j = 0; j < logouts.length; j++) {
    logouts[j].addEventListener("submit", function (event) {
      var n = mine(load()).length;
      if (n && !window.confirm(n + " observation(s) pas encore envoyée(s). Elles partiront à votre prochaine connexion sur ce téléphone. Se déconnecter quand même ?")) {
        event.preventDefault();
      }
    });
  }

  window.addEventListener("online", flush);
  render();
  flush();
}());
