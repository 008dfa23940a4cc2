/* Chat pages: times in the visitor's own time zone, and the live room (server-sent events:
   on each change of the archive the room is fetched again and swapped in place). */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var locale = lang === "fr" ? "fr-FR" : "en-GB";

  function localize(root) {
    var full = new Intl.DateTimeFormat(locale, {
      weekday: "long", year: "numeric", month: "long", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
    var short = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
    root.querySelectorAll("time[data-local-datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = full.format(d); el.title = el.getAttribute("datetime"); }
    });
    root.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = short.format(d); }
    });
  }
  localize(document);

  var page = document.querySelector("[data-chat-slug]");
  var room = document.querySelector("[data-room]");
  if (!page || !room || !window.EventSource || page.getAttribute("data-chat-state") === "before") return;
  var slug = page.getAttribute("data-chat-slug");
  var shown = page.getAttribute("data-version");
  var statusEl = document.querySelector("[data-status]");
  var busy = false, again = false;

  function status(ok) {
    if (!statusEl) return;
    statusEl.classList.toggle("off", !ok);
    var txt = statusEl.querySelector("[data-status-text]");
    if (txt) txt.textContent = txt.getAttribute(ok ? "data-on" : "data-off");
  }

  function refresh(version) {
    if (busy) { again = true; return; }
    busy = true;
    fetch("/chats/" + encodeURIComponent(slug) + "/room", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) {
          room.innerHTML = html;
          localize(room);
          shown = version;
          document.documentElement.setAttribute("data-live-version", version);
        }
      })
      .finally(function () {
        busy = false;
        if (again) { again = false; refresh(version); }
      });
  }

  var es = new EventSource("/api/chats/" + encodeURIComponent(slug) + "/stream");
  es.addEventListener("open", function () { status(true); });
  es.addEventListener("error", function () { status(false); });
  es.addEventListener("chat", function (ev) {
    status(true);
    var v = ev.lastEventId || "";
    if (v === shown) { document.documentElement.setAttribute("data-live-version", v); return; }
    refresh(v);
  });
})();
