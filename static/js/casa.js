// Our page glue (no inline scripts anywhere: the Content-Security-Policy forbids them).
// Live fragments arrive over htmx's websocket extension; while a socket is down, elements marked
// data-poll receive a "casa:poll" event every few seconds and refresh themselves over plain HTTP.
(function () {
  "use strict";
  const POLL_MS = 3000;
  let openSockets = 0;

  function setLiveState(live) {
    document.querySelectorAll("[data-live-state]").forEach(function (el) {
      el.classList.toggle("is-live", live);
      el.textContent = live ? el.dataset.liveText || "live" : el.dataset.pollText || "polling";
    });
  }

  document.addEventListener("htmx:wsOpen", function () { openSockets += 1; setLiveState(true); });
  document.addEventListener("htmx:wsClose", function () { openSockets = Math.max(0, openSockets - 1); setLiveState(openSockets > 0); });

  setInterval(function () {
    if (openSockets > 0 || !window.htmx) { return; }
    setLiveState(false);
    document.querySelectorAll("[data-poll]").forEach(function (el) { window.htmx.trigger(el, "casa:poll"); });
  }, POLL_MS);
})();
