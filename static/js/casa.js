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
//   <form data-confirm="Question?" data-confirm-type="name"> asks the user to type that name first;
//   hx-confirm="Question?" on htmx elements asks in the shared dialog too.
// Scripts ask through window.casaDialog (below): confirm, prompt (a text field with its validation message) and
// typed (type the name to confirm), each a promise.
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
    window.casaDialog.confirm({text: question, ok: okLabel}).then(function (yes) { if (yes) { onYes(); } });
  }

  // <form data-confirm-type="name" data-confirm="What goes?">: the user types the name before it is sent.
  function askTyped(form, submitter) {
    window.casaDialog.typed({text: form.dataset.confirm, expect: form.dataset.confirmType, ok: form.dataset.confirmOk})
      .then(function (yes) { if (yes) { resubmit(form, submitter); } });
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
    if (form.dataset.confirmType) { event.preventDefault(); askTyped(form, event.submitter); return; }
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

// The phone navigation: the Menu button (shown under 768 px) folds the site links in and out; Escape folds them.
(function () {
  "use strict";
  function setOpen(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest(".nav-toggle");
    if (button) { setOpen(button, button.getAttribute("aria-expanded") !== "true"); }
  });

  document.addEventListener("keydown", function (event) {
    const button = document.querySelector(".nav-toggle[aria-expanded=true]");
    if (event.key !== "Escape" || !button || !button.parentElement.contains(document.activeElement)) { return; }
    setOpen(button, false);
    button.focus();
  });
})();

// One way to show a time: the server renders <time datetime="ISO" data-when>its own absolute fallback</time>
// (casaos_site/templatetags/moment.py); here it becomes relative ("3 minutes ago") in the page's language, with the
// absolute time in the browser's own time zone as its title. data-when="date" shows a date only. Times that htmx
// swaps in (pages, socket fragments) are formatted as they arrive, and all of them refresh every half minute.
(function () {
  "use strict";
  const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  const REFRESH_MS = 30000;

  function language() {
    return document.documentElement.lang || navigator.language;
  }

  function relative(date, now) {
    const seconds = (date.getTime() - now) / 1000;
    const format = new Intl.RelativeTimeFormat(language(), { numeric: "auto" });
    if (Math.abs(seconds) < 45) { return format.format(0, "second"); }
    const unit = UNITS.find(function (u) { return Math.abs(seconds) >= u[1] * 0.9; }) || UNITS[UNITS.length - 1];
    return format.format(Math.round(seconds / unit[1]), unit[0]);
  }

  function absolute(date, dateOnly) {
    const options = dateOnly ? { dateStyle: "long" } : { dateStyle: "long", timeStyle: "short" };
    return new Intl.DateTimeFormat(language(), options).format(date);
  }

  function formatTime(el, now) {
    const date = new Date(el.getAttribute("datetime"));
    if (isNaN(date.getTime())) { return; }
    const dateOnly = el.dataset.when === "date";
    el.textContent = dateOnly ? absolute(date, true) : relative(date, now);
    el.title = absolute(date, dateOnly);
  }

  function formatTimes(root) {
    const now = Date.now();
    const scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("time[data-when]")) { formatTime(scope, now); }
    scope.querySelectorAll("time[data-when]").forEach(function (el) { formatTime(el, now); });
  }

  document.addEventListener("DOMContentLoaded", function () { formatTimes(document); });
  document.addEventListener("htmx:load", function (event) { formatTimes(event.detail.elt); });
  document.addEventListener("htmx:afterSwap", function () { formatTimes(document); });  // before settling: no flash
  document.addEventListener("htmx:oobAfterSwap", function (event) { formatTimes(event.detail.target); });
  setInterval(function () { formatTimes(document); }, REFRESH_MS);
  window.casaFormatTimes = formatTimes;
})();

// Announcements: an element marked data-announce="key" (an install step, an app's state, the uploads' total) is
// read out through the page's one live region (#casa-announcer, base.html) when its text changes. A live region
// inside a fragment does not do it: htmx and the socket replace the fragment, and a region that is new is not read.
(function () {
  "use strict";
  const EVERY_MS = 2000;  // at most one reading per key every two seconds: progress must not flood the reader
  const seen = new Map();
  let timer = null;

  function scan(speak) {
    const region = document.getElementById("casa-announcer");
    const changed = [];
    document.querySelectorAll("[data-announce]").forEach(function (el) {
      const text = (el.dataset.announceText || el.textContent).replace(/\s+/g, " ").trim();
      if (speak && seen.has(el.dataset.announce) && seen.get(el.dataset.announce) !== text && text) { changed.push(text); }
      seen.set(el.dataset.announce, text);
    });
    if (region && changed.length) { region.textContent = changed.join(". "); }
  }

  function later() {
    if (timer === null) { timer = setTimeout(function () { timer = null; scan(true); }, EVERY_MS); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    scan(false);
    new MutationObserver(later).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
})();

// Focus stays inside an open modal dialog: Tab and Shift+Tab cycle through its controls (the browser would
// otherwise move on to its own toolbar). Escape closing it is the native <dialog>'s own.
(function () {
  "use strict";
  const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

  function controls(dialog) {
    return Array.from(dialog.querySelectorAll(FOCUSABLE)).filter(function (el) { return el.getClientRects().length > 0; });
  }

  document.addEventListener("keydown", function (event) {
    const dialog = event.key === "Tab" && document.querySelector("dialog[open]:modal");
    if (!dialog) { return; }
    const inside = controls(dialog);
    if (!inside.length) { event.preventDefault(); return; }
    const first = inside[0], last = inside[inside.length - 1];
    const leaving = event.shiftKey ? document.activeElement === first || !dialog.contains(document.activeElement)
      : document.activeElement === last || !dialog.contains(document.activeElement);
    if (leaving) {
      event.preventDefault();
      (event.shiftKey ? last : first).focus();
    }
  });
})();

// A table wider than its place scrolls sideways inside a box of its own (focusable, so the keyboard scrolls it too):
// the page itself never gets wider than a phone's screen. Tables that fit are left alone.
(function () {
  "use strict";
  function fitTables(root) {
    const scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("main table").forEach(function (table) {
      const place = table.parentElement;
      if (place.classList.contains("table-scroll")) { return; }
      if (table.getBoundingClientRect().width <= place.getBoundingClientRect().width + 1) { return; }
      const box = document.createElement("div");
      box.className = "table-scroll";
      box.tabIndex = 0;
      place.insertBefore(box, table);
      box.append(table);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { fitTables(document); });
  document.addEventListener("htmx:load", function (event) { fitTables(event.detail.elt.parentElement || document); });
})();

// The shared dialogs (base.html): native <dialog>s opened with showModal(), so the page behind is inert and Escape
// cancels; the field gets the focus, and the focus returns to the control that opened the dialog.
//   casaDialog.confirm({text, ok, danger}) -> Promise<boolean>
//   casaDialog.prompt({title, label, value, ok, select, validate(value) -> message, submit(value) -> Promise<message>})
//     -> Promise<string|null>: validate runs as the user types; submit runs on OK, and a message it returns (the
//     server's refusal) stays in the dialog beside the field instead of closing it.
//   casaDialog.typed({text, expect, ok}) -> Promise<boolean>: OK only once the user has typed `expect` exactly.
//   A prompt's `quiet` keeps OK disabled while the value is not valid without saying so at each key.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  // Open a dialog; resolve with what onClose makes of it once it closes, and give the focus back.
  function open(dialog, focusOn, onClose) {
    const opener = document.activeElement;
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () {
        resolve(onClose(dialog.returnValue));
        restoreFocus(opener);
      }, {once: true});
      dialog.returnValue = "";
      dialog.showModal();
      if (focusOn) { focusOn.focus(); }
    });
  }

  function restoreFocus(opener) {
    if (!opener || !opener.isConnected || opener === document.body) { return; }
    const menu = opener.closest("details");
    if (menu && !menu.open) { menu.querySelector("summary").focus(); return; }  // its row menu closed meanwhile
    opener.focus();
  }

  function confirm(options) {
    const dialog = byId("confirm-dialog");
    if (!dialog) { return Promise.resolve(false); }  // no shared dialog on this page: nothing is sent unconfirmed
    const ok = byId("confirm-dialog-ok");
    dialog.querySelector("[data-confirm-text]").textContent = options.text;
    ok.textContent = options.ok || ok.dataset.label;
    ok.classList.toggle("danger", Boolean(options.danger));
    return open(dialog, null, function (value) { return value === "ok"; });
  }

  function prompt(options) {
    const dialog = byId("prompt-dialog");
    if (!dialog) { return Promise.resolve(null); }
    const form = byId("prompt-dialog-form"), input = byId("prompt-dialog-input"), ok = byId("prompt-dialog-ok");
    const error = byId("prompt-dialog-error");
    byId("prompt-dialog-title").textContent = options.title || "";
    byId("prompt-dialog-text").textContent = options.text || "";
    byId("prompt-dialog-text").hidden = !options.text;
    byId("prompt-dialog-label").textContent = options.label || "";
    ok.textContent = options.ok || ok.dataset.label;
    ok.classList.toggle("danger", Boolean(options.danger));
    input.value = options.value || "";
    let accepted = null;

    function show(message) {
      error.textContent = message || "";
      input.setAttribute("aria-invalid", message ? "true" : "false");
      if (!message) { input.removeAttribute("aria-invalid"); }
    }
    function check() {
      const message = !input.value.trim() ? error.dataset.required : (options.validate ? options.validate(input.value) : "");
      ok.disabled = Boolean(message);
      return message;
    }
    function typing() { show(input.value && !options.quiet ? check() : ""); check(); }
    async function submit(event) {
      event.preventDefault();
      const message = check();
      if (message) { show(message); input.focus(); return; }
      ok.disabled = true;
      const refused = options.submit ? await options.submit(input.value) : "";
      ok.disabled = false;
      if (refused) { show(refused); input.focus(); return; }
      accepted = input.value;
      dialog.close("ok");
    }
    show("");
    check();
    input.addEventListener("input", typing);
    form.addEventListener("submit", submit);
    const result = open(dialog, input, function () {
      input.removeEventListener("input", typing);
      form.removeEventListener("submit", submit);
      return accepted;
    });
    selectPart(input, options.select);
    return result;
  }

  // "report.final.txt": select "report.final" so typing a new name keeps the extension.
  function selectPart(input, mode) {
    const dot = input.value.lastIndexOf(".");
    const end = mode === "stem" && dot > 0 ? dot : input.value.length;
    input.setSelectionRange(0, end);
  }

  function typed(options) {
    const dialog = byId("prompt-dialog");
    const hint = dialog ? dialog.dataset.typeHint.replace("{name}", options.expect) : "";
    return prompt({
      title: options.text, label: hint, ok: options.ok, danger: true, quiet: true,
      validate: function (value) { return value === options.expect ? "" : hint; },
    }).then(function (value) { return value === options.expect; });
  }

  document.addEventListener("click", function (event) {
    const cancel = event.target.closest && event.target.closest("[data-dialog-cancel]");
    if (cancel) { cancel.closest("dialog").close(); }
  });

  window.casaDialog = {confirm: confirm, prompt: prompt, typed: typed};
})();
