// App tiles (the home page and the Apps page): reorder by dragging, by Alt+arrow keys or from a tile's menu, and
// the order is saved for this user; hide/show and start/stop/restart from a tile's menu without leaving the page.
// Start/stop/restart post to the REST API (the same endpoint and checks API clients use); the live socket then
// redraws the tiles, so the page only says what it asked for.
(function () {
  "use strict";
  let dragged = null;

  function grid() { return document.getElementById("tiles"); }
  function tiles(g) { return Array.from(g.querySelectorAll(".tile")); }

  function csrfHeaders() {
    // The page's CSRF token sits in <body hx-headers>: live re-renders of the tiles carry none of their own.
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  }

  function statusLine() {
    let line = document.getElementById("tiles-status");
    if (!line && grid()) {
      line = document.createElement("p");
      line.id = "tiles-status";
      line.className = "tiles-status";
      line.setAttribute("role", "status");
      grid().parentElement.insertBefore(line, grid());
    }
    return line;
  }

  function say(text, bad) {
    const line = statusLine();
    if (!line) { return; }
    line.textContent = text;
    line.classList.toggle("bad", Boolean(bad));
  }

  function save(g) {
    const ids = tiles(g).map(function (t) { return t.dataset.id; });
    const body = new URLSearchParams({ order: ids.join(",") });
    return fetch(g.dataset.orderUrl, { method: "POST", body: body, credentials: "same-origin", headers: csrfHeaders() });
  }

  function move(tile, step) {
    const g = tile.parentElement;
    const all = tiles(g);
    const to = all.indexOf(tile) + step;
    if (to < 0 || to >= all.length) { return; }
    g.insertBefore(tile, step < 0 ? all[to] : all[to].nextSibling);
    save(g);
    tile.querySelector(".tile-open").focus();
    const text = (g.dataset.movedText || "%(app)s: %(place)s / %(count)s")
      .replace("%(app)s", tile.dataset.title).replace("%(place)s", String(to + 1)).replace("%(count)s", String(all.length));
    say(text, false);
  }

  function refresh() {
    // The page answers its own URL over htmx with the tiles alone (what a live push would bring).
    return fetch(window.location.href, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        const box = document.createElement("div");
        box.innerHTML = html;
        const fresh = box.querySelector("#tiles");
        if (fresh && grid()) { grid().replaceWith(fresh); if (window.htmx) { window.htmx.process(fresh); } }
      });
  }

  function postForm(form, url, headers) {
    return fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: headers });
  }

  function control(form) {
    const tile = form.closest(".tile");
    postForm(form, form.dataset.api, Object.assign({ Accept: "application/json" }, csrfHeaders()))
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (data) { return [r, data]; }); })
      .then(function (pair) {
        const ok = pair[0].ok;
        say(tile.dataset.title + ": " + (ok ? form.dataset.done : pair[1].detail || pair[0].statusText), !ok);
      });
    tile.querySelector("details").open = false;
  }

  function hide(form) {
    const title = form.closest(".tile").dataset.title;
    const label = form.querySelector("button").textContent.trim();
    postForm(form, form.action, Object.assign({ "HX-Request": "true" }, csrfHeaders()))
      .then(refresh)
      .then(function () { say(title + ": " + label, false); });
  }

  document.addEventListener("submit", function (e) {
    const form = e.target;
    if (form.matches("[data-tile-control]")) { e.preventDefault(); control(form); }
    if (form.matches("[data-tile-hide]")) { e.preventDefault(); hide(form); }
  });

  document.addEventListener("click", function (e) {
    const button = e.target.closest && e.target.closest("[data-tile-move]");
    if (!button) { return; }
    const tile = button.closest(".tile");
    tile.querySelector("details").open = false;
    move(tile, Number(button.dataset.tileMove));
  });

  document.addEventListener("keydown", function (e) {
    const tile = e.target.closest && e.target.closest(".tile");
    if (!tile || !e.altKey || !e.target.matches(".tile-open")) { return; }
    const step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[e.key];
    if (!step) { return; }
    e.preventDefault();
    move(tile, step);
  });

  // A tile's menu: Escape closes it and gives focus back to its button.
  document.addEventListener("keydown", function (e) {
    const menu = e.key === "Escape" && e.target.closest && e.target.closest(".tile-menu[open]");
    if (!menu) { return; }
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  document.addEventListener("dragstart", function (e) {
    const tile = e.target.closest && e.target.closest(".tile");
    if (!tile) { return; }
    dragged = tile;
    tile.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
  });
  document.addEventListener("dragover", function (e) {
    const over = e.target.closest && e.target.closest(".tile");
    if (!dragged || !over || over === dragged) { return; }
    e.preventDefault();
    const g = over.parentElement;
    const after = Array.from(g.children).indexOf(over) > Array.from(g.children).indexOf(dragged);
    g.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("drop", function (e) {
    const g = e.target.closest && e.target.closest("#tiles");
    if (!dragged || !g) { return; }
    e.preventDefault();
    save(g);
  });
})();
