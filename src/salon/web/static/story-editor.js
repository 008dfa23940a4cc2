// Salon story editor: drag and drop and keyboard moves (Alt+Arrow on an item's handle), removal
// and autosave of the story's fields, each sent at once with the revision this page saw. The
// server refuses a stale revision (409): the page then says another editor saved first and stops
// saving, so nobody's work is silently overwritten. Without this script every action is a form.
(function () {
  "use strict";
  var root = document.getElementById("story-editor");
  if (!root || !window.fetch || !window.FormData) return;
  var slug = root.getAttribute("data-slug");
  var csrf = root.getAttribute("data-csrf");
  var revision = parseInt(root.getAttribute("data-revision"), 10);
  var list = document.getElementById("story-items");
  var status = document.getElementById("save-status");
  var conflictBox = document.getElementById("conflict");
  var locked = false;
  var busy = 0;
  var M = {};
  try { M = JSON.parse(root.getAttribute("data-msgs") || "{}"); } catch (e) { M = {}; }
  // the page's language's message for key, with {name} filled in
  function msg(key, values) {
    var s = M[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(values[k])); });
    return s;
  }

  function say(text) { if (status) status.textContent = text; }

  function setRevision(rev) {
    revision = rev;
    root.setAttribute("data-revision", String(rev));
    var inputs = document.querySelectorAll("input[name=revision]");
    for (var i = 0; i < inputs.length; i++) inputs[i].value = String(rev);
  }

  function conflict() {
    locked = true;
    if (conflictBox) { conflictBox.hidden = false; conflictBox.focus && conflictBox.focus(); }
    say(msg("conflict"));
  }

  function send(fields) {
    if (locked) { conflict(); return Promise.resolve(false); }
    var body = new FormData();
    body.append("csrf", csrf);
    body.append("revision", String(revision));
    Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
    busy++;
    say(msg("saving"));
    return fetch("/edit/stories/" + encodeURIComponent(slug), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (r) {
      return r.json().then(function (data) { return { status: r.status, data: data }; });
    }).then(function (res) {
      busy--;
      if (res.status === 409) { conflict(); return false; }
      if (res.status !== 200) { say(msg("not_saved", { why: res.data.detail || res.status })); return false; }
      setRevision(res.data.revision);
      say(msg("saved", { n: res.data.revision }));
      return true;
    }).catch(function () { busy--; say(msg("no_answer")); return false; });
  }

  // -- items ---------------------------------------------------------------------------------
  function items() { return list ? Array.prototype.slice.call(list.children) : []; }

  function renumber() {
    items().forEach(function (li, i) {
      li.setAttribute("data-index", String(i));
      var idx = li.querySelectorAll("input[name=index]");
      for (var k = 0; k < idx.length; k++) idx[k].value = String(i);
      var h = li.querySelector(".handle");
      if (h) h.setAttribute("aria-label", h.getAttribute("aria-label").replace(/\d+/, String(i + 1)));
    });
  }

  function saveOrder(movedLi) {
    var order = items().map(function (li) { return li.getAttribute("data-index"); });
    return send({ op: "order", order: order.join(",") }).then(function (ok) {
      if (ok) {
        renumber();
        if (movedLi) say(msg("moved", { pos: items().indexOf(movedLi) + 1, count: items().length }));
      }
    });
  }

  function move(li, delta) {
    var all = items(), i = all.indexOf(li), j = i + delta;
    if (j < 0 || j >= all.length) return;
    if (delta < 0) list.insertBefore(li, all[j]); else list.insertBefore(li, all[j].nextSibling);
    var h = li.querySelector(".handle");
    if (h) h.focus();
    saveOrder(li);
  }

  if (list) {
    items().forEach(function (li) {
      var h = li.querySelector(".handle");
      if (!h) return;
      h.hidden = false;
      h.addEventListener("keydown", function (e) {
        if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
          e.preventDefault();
          move(li, e.key === "ArrowUp" ? -1 : 1);
        }
      });
      h.addEventListener("dragstart", function (e) {
        li.classList.add("dragging");
        e.dataTransfer.effectAllowed = "move";
        e.dataTransfer.setData("text/plain", li.getAttribute("data-index"));
      });
      h.addEventListener("dragend", function () { li.classList.remove("dragging"); });
    });
    list.addEventListener("dragover", function (e) {
      var dragging = list.querySelector(".dragging");
      if (!dragging) return;
      e.preventDefault();
      var over = e.target.closest ? e.target.closest(".story-item") : null;
      if (!over || over === dragging) return;
      var box = over.getBoundingClientRect();
      var after = e.clientY > box.top + box.height / 2;
      list.insertBefore(dragging, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", function (e) {
      var dragging = list.querySelector(".dragging");
      if (!dragging) return;
      e.preventDefault();
      dragging.classList.remove("dragging");
      saveOrder(dragging);
    });
    list.addEventListener("submit", function (e) {
      var form = e.target, btn = form.querySelector("button[data-op]");
      if (!btn) return;
      e.preventDefault();
      var li = form.closest(".story-item"), op = btn.getAttribute("data-op");
      if (op === "up") move(li, -1);
      else if (op === "down") move(li, 1);
      else if (op === "remove") {
        send({ op: "remove", index: li.getAttribute("data-index") }).then(function (ok) {
          if (!ok) return;
          var next = li.nextElementSibling || li.previousElementSibling;
          li.parentNode.removeChild(li);
          renumber();
          var f = next && next.querySelector(".handle");
          if (f) f.focus();
          say(msg("removed", { count: items().length }));
        });
      }
    });
  }

  // -- fields: autosave ------------------------------------------------------------------------
  var fieldsForm = document.querySelector("form[data-autosave]");
  var timer = null;
  function fieldValues() {
    var out = { op: "fields" };
    var els = fieldsForm.querySelectorAll("input[name], textarea[name], select[name]");
    for (var i = 0; i < els.length; i++) {
      var n = els[i].name;
      if (n !== "csrf" && n !== "op" && n !== "revision") out[n] = els[i].value;
    }
    return out;
  }
  if (fieldsForm) {
    fieldsForm.addEventListener("input", function () {
      clearTimeout(timer);
      say(msg("unsaved"));
      timer = setTimeout(function () { send(fieldValues()); }, 800);
    });
    fieldsForm.addEventListener("submit", function (e) {
      e.preventDefault();
      clearTimeout(timer);
      send(fieldValues());
    });
  }

  // -- another editor: notice their save early ---------------------------------------------------
  setInterval(function () {
    if (locked || busy) return;
    fetch("/edit/stories/" + encodeURIComponent(slug) + "/state", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d && !busy && d.revision !== revision) conflict(); })
      .catch(function () {});
  }, 5000);
})();
