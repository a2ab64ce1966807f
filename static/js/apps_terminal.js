// Browser terminal: xterm.js over a websocket carrying raw bytes; closing the page ends the shell.
(function () {
  "use strict";
  const form = document.getElementById("terminal-controls");
  if (!form || !window.Terminal) { return; }
  const state = document.getElementById("terminal-state");
  const service = document.getElementById("terminal-service");
  const term = new window.Terminal({ cursorBlink: true, convertEol: false, fontSize: 14 });
  const fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById("terminal"));
  fit.fit();
  let socket = null;
  const encoder = new TextEncoder();

  function sendSize() {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ resize: [term.rows, term.cols] }));
    }
  }

  function connect() {
    if (socket) { socket.close(); }
    term.reset();
    state.textContent = "";
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + form.dataset.socket + encodeURIComponent(service.value) + "/");
    socket.binaryType = "arraybuffer";
    socket.onopen = function () { sendSize(); term.focus(); };
    socket.onmessage = function (e) { term.write(new Uint8Array(e.data)); };
    socket.onclose = function (e) { state.textContent = e.code === 4412 ? state.dataset.refused : state.dataset.closed; };
  }

  term.onData(function (data) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(encoder.encode(data)); }
  });
  window.addEventListener("resize", function () { fit.fit(); sendSize(); });
  window.addEventListener("pagehide", function () { if (socket) { socket.close(); } });
  document.getElementById("terminal-connect").addEventListener("click", connect);
  connect();
})();
