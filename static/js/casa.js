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
      el.textContent = live ? el.dataset.liveText || gettext("live") : el.dataset.pollText || gettext("polling");
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

// Confirmations are dialogs in the page, never window.confirm (Umbrel's rule; a native prompt cannot say what
// will go, and the CSP leaves us no inline handlers anyway):
//   <form data-confirm="Question?" [data-confirm-ok="Revoke"]> asks in the shared #confirm-dialog (base.html);
//   <form data-confirm-dialog="id"> opens that <dialog>, placed inside the form: its [data-confirm-ok] submit
//     buttons send the form, [data-confirm-cancel] closes it; in it, [data-confirm-if="checkbox-id"] parts show
//     (and their fields count) only while that box is ticked, [data-confirm-unless="checkbox-id"] only while not;
//   hx-confirm="Question?" on htmx elements asks in the shared dialog too.
(function () {
  "use strict";
  const FIELDS = "input, select, textarea, button";

  function syncParts(dialog) {
    dialog.querySelectorAll("[data-confirm-if], [data-confirm-unless]").forEach(function (part) {
      const box = document.getElementById(part.dataset.confirmIf || part.dataset.confirmUnless);
      const ticked = Boolean(box && box.checked);
      const show = part.hasAttribute("data-confirm-if") ? ticked : !ticked;
      part.hidden = !show;
      const fields = Array.from(part.querySelectorAll(FIELDS));
      if (part.matches(FIELDS)) { fields.push(part); }  // a dialog's button may be a part itself
      fields.forEach(function (field) { field.disabled = !show; });
    });
  }

  function ask(question, okLabel, onYes) {
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog) { return; }  // no shared dialog on this page: nothing is sent unconfirmed
    const ok = dialog.querySelector("button[value=ok]");
    dialog.querySelector("[data-confirm-text]").textContent = question;
    ok.textContent = okLabel || ok.dataset.label;
    dialog.returnValue = "";
    dialog.addEventListener("close", function () { if (dialog.returnValue === "ok") { onYes(); } }, { once: true });
    dialog.showModal();
  }

  function resubmit(form, submitter) {
    form.dataset.confirmed = "yes";
    form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
  }

  function openDialog(form, event) {
    const dialog = document.getElementById(form.dataset.confirmDialog);
    if (!dialog || (event.submitter && event.submitter.hasAttribute("data-confirm-ok"))) { return; }
    event.preventDefault();
    syncParts(dialog);
    dialog.showModal();
    const first = dialog.querySelector("input:not([disabled]):not([type=hidden]), [data-confirm-ok]:not([disabled])");
    if (first) { first.focus(); }
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    if (form.dataset.confirmed === "yes") { delete form.dataset.confirmed; return; }
    if (form.dataset.confirmDialog) { openDialog(form, event); return; }
    if (form.dataset.confirm) {
      event.preventDefault();
      ask(form.dataset.confirm, form.dataset.confirmOk, function () { resubmit(form, event.submitter); });
    }
  }, true);

  document.addEventListener("click", function (event) {
    const cancel = event.target.closest && event.target.closest("[data-confirm-cancel]");
    if (cancel) { cancel.closest("dialog").close(); }
  });

  document.addEventListener("htmx:confirm", function (event) {
    if (!event.detail.question) { return; }
    event.preventDefault();
    ask(event.detail.question, null, function () { event.detail.issueRequest(true); });
  });
})();
