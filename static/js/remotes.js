// The Remotes page: the add form shows the chosen kind's fields only; /ws/remotes/ pushes mount states and sync
// progress (JSON), drawn into the cards without a reload.
(function () {
  "use strict";

  function showKind() {
    const select = document.querySelector("[data-kind-select]");
    if (!select) { return; }
    document.querySelectorAll("fieldset[data-kind]").forEach(function (set) {
      const chosen = set.dataset.kind === select.value;
      set.hidden = !chosen;
      set.disabled = !chosen;
    });
  }

  function showState(data) {
    const card = document.querySelector('[data-remote="' + String(data.id).replace(/\D/g, "") + '"]');
    if (!card) { return; }
    const badge = card.querySelector("[data-remote-state]");
    badge.className = "badge badge-" + data.state;
    const message = card.querySelector("[data-remote-message]");
    message.textContent = data.message || "";
    message.hidden = !data.message;
  }

  function showSync(data) {
    const card = document.querySelector('[data-job="' + String(data.job).replace(/\D/g, "") + '"]');
    if (!card) { return; }
    const box = card.querySelector("[data-sync-progress]");
    box.hidden = false;
    box.querySelector("[data-sync-bar]").value = data.percent;
    box.querySelector("[data-sync-percent]").textContent = data.percent + " %";
    box.querySelector("[data-sync-state]").textContent = data.state;
    box.querySelector("[data-sync-message]").textContent = data.message || "";
  }

  function liveState(text) {
    const state = document.querySelector("[data-live-state]");
    if (state) { state.textContent = state.dataset[text] || ""; }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/remotes/");
    socket.onopen = function () { liveState("liveText"); };
    socket.onclose = function () { liveState("pollText"); setTimeout(connect, 5000); };
    socket.onmessage = function (event) {
      let message;
      try { message = JSON.parse(event.data); } catch (error) { return; }
      if (message.event === "remotes.sync") { showSync(message.data); }
      if (message.event === "remotes.state") { showState(message.data); }
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    const select = document.querySelector("[data-kind-select]");
    if (select) { select.addEventListener("change", showKind); showKind(); }
    connect();
  });
})();
