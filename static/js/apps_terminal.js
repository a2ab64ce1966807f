// Browser terminal: xterm.js over a websocket carrying raw bytes; closing the page ends the shell.
(function () {
  "use strict";
  const form = document.getElementById("terminal-controls");
  const element = document.getElementById("terminal");
  if (!form || !element || !window.Terminal) { return; }
  const state = document.getElementById("terminal-state");
  const service = document.getElementById("terminal-service");
  const encoder = new TextEncoder();
  let socket = null;

  // Font and colours come from the stylesheet (.terminal-pane), so the page has one place for them.
  function options() {
    const style = getComputedStyle(element);
    return {
      cursorBlink: true,
      convertEol: false,
      fontFamily: style.fontFamily,
      fontSize: parseFloat(style.fontSize),
      theme: { foreground: style.color, background: style.backgroundColor, cursor: style.color },
    };
  }

  // xterm.js writes its own <style> elements while it opens (row sizes, colours, font); the page's CSP admits
  // a <style> only with this response's nonce, which the server put on the terminal's element.
  function openWithNonce(term) {
    const create = document.createElement;
    document.createElement = function (name, opts) {
      const made = create.call(document, name, opts);
      if (made.localName === "style") { made.nonce = element.nonce; }
      return made;
    };
    try { term.open(element); } finally { document.createElement = create; }
  }

  function start() {
    const term = new window.Terminal(options());
    const fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
    openWithNonce(term);
    fit.fit();

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
  }

  // xterm.js measures one character to size its rows: measure with the real font, not a fallback still loading.
  document.fonts.ready.then(start);
})();
