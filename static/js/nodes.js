// The Machines page: the panel is read again on /ws/nodes/ events and every few seconds (a machine going down sends
// no event we hear), but not while the person is in the middle of something there (an open label editor or remove
// panel, a focused field, a confirmation dialog): then once they are done.
(function () {
  "use strict";

  const PERIOD = 10000;

  function box() { return document.getElementById("nodes-box"); }

  function busy(el) {
    const focused = document.activeElement;
    return el.querySelector("details[open]") || document.querySelector("dialog[open]") ||
      (focused && el.contains(focused) && focused.matches("input, textarea, select"));
  }

  function refresh() {
    const el = box();
    if (!el || !window.htmx || document.hidden) { return; }
    if (busy(el)) { el.dataset.stale = "1"; return; }
    delete el.dataset.stale;
    window.htmx.trigger(el, "nodes:changed");
  }

  function onMessage(event) {
    if (!event.target.closest || !event.target.closest("#nodes-live")) { return; }
    let message;
    try { message = JSON.parse(event.detail.message); } catch (error) { return; }
    event.preventDefault();  // JSON, not HTML for htmx to swap
    if (String(message.event || "").indexOf("nodes.") === 0) { refresh(); }
  }

  function onToggle(event) {
    const el = box();
    if (el && el.dataset.stale && event.target.matches && event.target.matches("details") && !event.target.open) { refresh(); }
  }

  document.addEventListener("htmx:wsBeforeMessage", onMessage);
  document.addEventListener("toggle", onToggle, true);  // toggle does not bubble
  document.addEventListener("visibilitychange", refresh);
  window.setInterval(refresh, PERIOD);
})();
