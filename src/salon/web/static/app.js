// Salon live pages: subscribe to /api/campaigns/{slug}/stream (server-sent events) and update
// the counters, theme cards, chart, top institutions, map and latest posts in place.
// Written here, no dependency. The chart and map maths mirror salon/web/pages.py.
(function () {
  "use strict";
  var page = document.querySelector("[data-live-slug]");
  if (!page || !window.EventSource) return;
  var slug = page.getAttribute("data-live-slug");
  var lang = document.documentElement.lang || "en";
  var nf = new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-US");
  var CHART_W = 800, CHART_H = 180;

  function setNum(el, value) {
    var text = nf.format(value);
    if (el.textContent !== text) {
      el.textContent = text;
      el.classList.remove("bump");
      void el.offsetWidth; // restart the animation
      el.classList.add("bump");
    }
  }

  function pick(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }

  function chart(hourly) {
    var vals = hourly.map(function (h) { return h.posts; });
    if (!vals.length) return null;
    var top = Math.max(1, Math.max.apply(null, vals));
    var step = CHART_W / Math.max(vals.length - 1, 1);
    var pts = vals.map(function (v, i) {
      return (Math.round(i * step * 10) / 10) + "," + (Math.round((CHART_H - v / top * (CHART_H - 4)) * 10) / 10);
    });
    var line = "M" + pts.join("L");
    var lastX = Math.round((vals.length - 1) * step * 10) / 10;
    return { line: line, area: line + "L" + lastX + "," + CHART_H + "L0," + CHART_H + "Z", max: top };
  }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function update(t) {
    page.querySelectorAll("[data-k]").forEach(function (el) {
      var v = pick(t, el.getAttribute("data-k"));
      if (v != null) setNum(el, v);
    });
    page.querySelectorAll("[data-theme]").forEach(function (card) {
      var th = t.themes[card.getAttribute("data-theme")];
      if (!th) return;
      card.querySelectorAll("[data-tk]").forEach(function (el) { setNum(el, th[el.getAttribute("data-tk")]); });
    });
    var c = chart(t.hourly || []);
    if (c) {
      var a = page.querySelector("[data-chart-area]"), l = page.querySelector("[data-chart-line]");
      var m = page.querySelector("[data-chart-max]");
      if (a) a.setAttribute("d", c.area);
      if (l) l.setAttribute("d", c.line);
      if (m) m.textContent = nf.format(c.max);
    }
    var top = page.querySelector("[data-top]");
    if (top && t.top_institutions) {
      top.innerHTML = t.top_institutions.map(function (i) {
        return '<li><span class="name">' + esc(i.name) + '</span> <span class="cc">' + esc(i.country || "") +
          '</span> <span class="val">' + nf.format(i.posts) + "</span></li>";
      }).join("") || '<li class="empty">—</li>';
    }
    var paths = page.querySelectorAll("[data-cc]");
    if (paths.length && t.by_country) {
      var maxI = 0;
      Object.keys(t.by_country).forEach(function (k) { maxI = Math.max(maxI, t.by_country[k].institutions); });
      paths.forEach(function (p) {
        var e = t.by_country[p.getAttribute("data-cc")];
        var lvl = e && e.institutions > 0 && maxI ? Math.min(5, 1 + Math.floor(4 * e.institutions / maxI)) : 0;
        p.setAttribute("class", "l" + lvl);
      });
    }
    var up = page.querySelector("[data-updated]");
    if (up && t.computed_at) up.textContent = t.computed_at.slice(11, 19);
    refreshLatest();
  }

  var latestBusy = false, latestAgain = false;
  function refreshLatest() {
    var box = page.querySelector("[data-latest-url]");
    if (!box) return;
    if (latestBusy) { latestAgain = true; return; }
    latestBusy = true;
    fetch(box.getAttribute("data-latest-url"), { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html != null) box.innerHTML = html; })
      .catch(function () {})
      .then(function () {
        setTimeout(function () {
          latestBusy = false;
          if (latestAgain) { latestAgain = false; refreshLatest(); }
        }, 1000);
      });
  }

  function status(on) {
    page.querySelectorAll("[data-status]").forEach(function (s) {
      s.classList.toggle("off", !on);
      var txt = s.querySelector("[data-status-text]");
      if (txt) txt.textContent = txt.getAttribute(on ? "data-on" : "data-off");
    });
  }

  var first = true;
  var es = new EventSource("/api/campaigns/" + encodeURIComponent(slug) + "/stream");
  es.addEventListener("open", function () { status(true); });
  es.addEventListener("error", function () { status(false); });
  es.addEventListener("tally", function (ev) {
    status(true);
    var t = JSON.parse(ev.data);
    if (first) { first = false; }
    update(t);
    document.documentElement.setAttribute("data-live-version", ev.lastEventId || "");
  });
})();
