// The Backups page: runs' progress from /ws/backups/ (JSON events) drawn in place, the runs table redrawn when a run
// starts or ends; the repository form showing the fields its target takes; the recovery sheet's print button.
(function () {
  "use strict";

  function runsBox() { return document.getElementById("backups-runs-box"); }

  function refreshRuns() {
    const box = runsBox();
    if (box && window.htmx) { window.htmx.trigger(box, "backups:changed"); }
  }

  function speed(bytes) {
    if (!bytes) { return ""; }
    const units = ["B/s", "KB/s", "MB/s", "GB/s"];
    let i = 0;
    while (bytes >= 1000 && i < units.length - 1) { bytes /= 1000; i += 1; }
    return bytes.toFixed(i ? 1 : 0) + " " + units[i];
  }

  function showRun(data) {
    const row = document.querySelector('[data-run="' + String(data.id).replace(/\D/g, "") + '"]');
    const bar = row && row.querySelector("[data-run-progress]");
    if (!bar || row.dataset.status !== data.status) { refreshRuns(); return; }
    bar.value = (data.progress && data.progress.percent) || 0;
    row.querySelector("[data-run-step]").textContent = data.step || "";
    row.querySelector("[data-run-speed]").textContent = speed(data.progress && data.progress.speed);
  }

  function onMessage(event) {
    let message;
    try { message = JSON.parse(event.detail.message); } catch (error) { return; }
    event.preventDefault();  // JSON, not HTML for htmx to swap
    if (message.event === "backups.run") { showRun(message.data); }
  }

  // The fields each target takes besides name, kind and location (the password: to connect an existing repository).
  const TARGET_FIELDS = {
    local: ["password"],
    sftp: ["username", "port", "secret", "password"],
    s3: ["username", "secret", "password"],
    rest: ["username", "secret", "password"],
    rclone: ["remote", "password"],
  };
  const ALWAYS = ["name", "kind", "location"];

  function showTargetFields(form) {
    const kind = form.querySelector('[name="kind"]');
    const wanted = ALWAYS.concat(TARGET_FIELDS[kind && kind.value] || []);
    form.querySelectorAll("[data-field]").forEach(function (box) {
      const shown = wanted.indexOf(box.dataset.field) >= 0;
      box.hidden = !shown;
      box.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !shown; });
    });
  }

  function repositoryForms() {
    document.querySelectorAll("[data-repository-form]").forEach(function (form) {
      showTargetFields(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "kind") { showTargetFields(form); }
      });
    });
  }

  repositoryForms();
  document.addEventListener("htmx:wsBeforeMessage", onMessage);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });
}());
