// The Storage page: live job progress and inventory changes from /ws/storage/ (JSON events), and the typed
// confirmation of a format (the disk's model and serial) through casaDialog.typed.
(function () {
  "use strict";

  function cardsBox() { return document.getElementById("storage-cards-box"); }

  // A redraw would close a format panel the admin is filling in: it waits until the panel is closed.
  function refreshCards() {
    const box = cardsBox();
    if (!box || !window.htmx) { return; }
    if (box.querySelector("details.format-panel[open]")) { box.dataset.stale = "1"; return; }
    delete box.dataset.stale;
    window.htmx.trigger(box, "storage:changed");
  }

  function onToggle(event) {
    const panel = event.target;
    const box = cardsBox();
    if (panel.matches && panel.matches("details.format-panel") && !panel.open && box && box.dataset.stale) { refreshCards(); }
  }

  function showJob(data) {
    const job = document.querySelector('[data-job="' + String(data.job).replace(/\D/g, "") + '"]');
    if (!job) { refreshCards(); return; }  // a job this page has not drawn yet: redraw the cards
    job.hidden = false;
    job.dataset.status = data.status;
    job.querySelector("[data-job-progress]").value = data.progress;
    job.querySelector("[data-job-step]").textContent = data.step || data.status;
    if (data.status === "done" || data.status === "failed") { refreshCards(); }
  }

  function onMessage(event) {
    let message;
    try { message = JSON.parse(event.detail.message); } catch (error) { return; }  // not ours: htmx swaps HTML
    event.preventDefault();  // JSON, not HTML for htmx to swap
    if (message.event === "storage.job") { showJob(message.data); } else { refreshCards(); }
  }

  // The format form: its typed field filled through the shared dialog when the admin left it empty.
  function askFormat(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.formatConfirm) { return; }
    const field = form.querySelector("[data-format-typed]");
    if (field.value || !window.casaDialog) { return; }
    event.preventDefault();
    window.casaDialog.typed({text: form.dataset.formatQuestion, expect: form.dataset.formatConfirm, ok: form.dataset.formatOk})
      .then(function (yes) { if (yes) { field.value = form.dataset.formatConfirm; form.requestSubmit(); } });
  }

  document.addEventListener("htmx:wsBeforeMessage", onMessage);
  document.addEventListener("submit", askFormat);
  document.addEventListener("toggle", onToggle, true);  // toggle does not bubble
})();
