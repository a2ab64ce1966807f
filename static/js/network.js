// The Network page: each interface's live throughput from /ws/system/?format=json (the home widget's figures), the
// open change's panel redrawn on /ws/network/ events, and on the confirmation page the code taken from the link's
// #fragment (a fragment never reaches a server or its logs).
(function () {
  "use strict";

  function language() { return document.documentElement.lang || undefined; }

  // The same words as the server's filesizeformat (what the page and the home widget draw first): 1024-based.
  function perSecond(value) {
    const units = ["KB", "MB", "GB", "TB"];
    let v = Math.max(0, value);
    if (v < 1024) { return Math.round(v) + " " + (Math.round(v) === 1 ? gettext("byte") : gettext("bytes")) + "/s"; }
    let i = -1;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
    return new Intl.NumberFormat(language(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v) + " " + units[i] + "/s";
  }

  function showRates(interfaces) {
    (interfaces || []).forEach(function (nic) {
      const box = document.querySelector('[data-rate-for="' + CSS.escape(nic.name) + '"]');
      if (!box) { return; }
      const recv = box.querySelector('[data-rate="recv"]');
      const sent = box.querySelector('[data-rate="sent"]');
      if (recv) { recv.textContent = perSecond(nic.recv_per_s); }
      if (sent) { sent.textContent = perSecond(nic.sent_per_s); }
    });
  }

  function onMessage(event) {
    let message;
    try { message = JSON.parse(event.detail.message); } catch (error) { return; }
    event.preventDefault();  // JSON, not HTML for htmx to swap
    if (message.event === "system.stats") { showRates(message.data.interfaces); }
    if (message.event === "network.change") {
      const panel = document.getElementById("network-change");
      if (panel && window.htmx) { window.htmx.trigger(panel, "network:changed"); }
    }
  }

  function fillCode() {
    const field = document.querySelector("#confirm-form input[name=token]");
    if (field && !field.value && window.location.hash.length > 1) { field.value = decodeURIComponent(window.location.hash.slice(1)); }
  }

  document.addEventListener("htmx:wsBeforeMessage", onMessage);
  document.addEventListener("DOMContentLoaded", fillCode);
})();
