// Live log tail: one websocket per chosen service; pause keeps new lines aside; only the last N lines are kept.
(function () {
  "use strict";
  const form = document.getElementById("logs-controls");
  if (!form) { return; }
  const out = document.getElementById("logs-output");
  const state = document.getElementById("logs-state");
  const service = document.getElementById("logs-service");
  const limit = document.getElementById("logs-limit");
  const pause = document.getElementById("logs-pause");
  const download = document.getElementById("logs-download");
  let socket = null;
  let paused = false;
  let held = [];

  function trim() {
    const max = Math.max(10, parseInt(limit.value, 10) || 1000);
    const lines = out.textContent.split("\n");
    if (lines.length > max) { out.textContent = lines.slice(lines.length - max).join("\n"); }
  }

  function append(lines) {
    if (!lines.length) { return; }
    const stick = out.scrollTop + out.clientHeight >= out.scrollHeight - 20;
    out.textContent += (out.textContent ? "\n" : "") + lines.join("\n");
    trim();
    if (stick) { out.scrollTop = out.scrollHeight; }
  }

  function updateDownload() {
    const url = new URL(form.dataset.download, window.location.href);
    url.searchParams.set("service", service.value);
    url.searchParams.set("lines", limit.value);
    download.href = url.pathname + url.search;
  }

  function connect() {
    if (socket) { socket.close(); }
    out.textContent = "";
    state.textContent = "";
    held = [];
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const query = new URLSearchParams({ service: service.value, tail: limit.value });
    socket = new WebSocket(scheme + window.location.host + form.dataset.socket + "?" + query.toString());
    socket.onmessage = function (e) {
      const msg = JSON.parse(e.data);
      if (paused) { held = held.concat(msg.lines); } else { append(msg.lines); }
      if (msg.ended) { state.textContent = state.dataset.ended; }
    };
    updateDownload();
  }

  pause.addEventListener("click", function () {
    paused = !paused;
    pause.textContent = paused ? pause.dataset.resume : pause.dataset.pause;
    if (!paused) { append(held); held = []; }
  });
  service.addEventListener("change", connect);
  limit.addEventListener("change", function () { trim(); updateDownload(); });
  window.addEventListener("pagehide", function () { if (socket) { socket.close(); } });
  connect();
})();
