// Apps page: drag a tile onto another to reorder; the new order is saved for this user.
(function () {
  "use strict";
  let dragged = null;

  function save(grid) {
    const ids = Array.from(grid.querySelectorAll(".tile")).map(function (t) { return t.dataset.id; });
    const body = new URLSearchParams({ order: ids.join(",") });
    // The page's CSRF token sits in <body hx-headers>: live re-renders of the tiles carry none of their own.
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    fetch(grid.dataset.orderUrl, { method: "POST", body: body, credentials: "same-origin", headers: headers });
  }

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
    const grid = over.parentElement;
    const after = Array.from(grid.children).indexOf(over) > Array.from(grid.children).indexOf(dragged);
    grid.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("drop", function (e) {
    const grid = e.target.closest && e.target.closest("#tiles");
    if (!dragged || !grid) { return; }
    e.preventDefault();
    save(grid);
  });
})();
