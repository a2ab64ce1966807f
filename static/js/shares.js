// The Shares page: each apply's states from /ws/shares/ (JSON events) redraw the cards, unless a change form is open.
(function () {
  "use strict";

  function box() { return document.getElementById("shares-box"); }

  function refresh() {
    const cards = box();
    if (!cards || !window.htmx) { return; }
    if (cards.querySelector("details.share-edit[open]")) { cards.dataset.stale = "1"; return; }
    delete cards.dataset.stale;
    window.htmx.trigger(cards, "shares:changed");
  }

  function onToggle(event) {
    const panel = event.target;
    const cards = box();
    if (panel.matches && panel.matches("details.share-edit") && !panel.open && cards && cards.dataset.stale) { refresh(); }
  }

  // A state badge changes at once; the cards are redrawn when the apply is over (removed shares go, errors show).
  function showStates(data) {
    (data.shares || []).forEach(function (share) {
      const badge = document.querySelector('[data-share="' + String(share.id).replace(/\D/g, "") + '"] [data-share-state]');
      if (badge && data.step === "applying") { badge.textContent = gettext("Applying"); }
    });
    if (data.step !== "applying") { refresh(); }
  }

  function onMessage(event) {
    let message;
    try { message = JSON.parse(event.detail.message); } catch (error) { return; }
    event.preventDefault();  // JSON, not HTML for htmx to swap
    if (message.event === "shares.state") { showStates(message.data); }
  }

  document.addEventListener("htmx:wsBeforeMessage", onMessage);
  document.addEventListener("toggle", onToggle, true);  // toggle does not bubble
})();
