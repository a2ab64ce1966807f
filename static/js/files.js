// The folder page: actions over the JSON API, tus uploads with progress, live refresh on changes.
(function () {
  "use strict";
  const app = document.getElementById("files-app");
  if (!app) { return; }
  const F = window.casaFiles;
  const msg = app.dataset;

  function currentPath() {
    const listing = document.getElementById("listing");
    return listing ? listing.dataset.path : app.dataset.path;
  }
  function say(text, isError) {
    const el = document.getElementById("files-message");
    el.textContent = text;
    el.hidden = !text;
    el.classList.toggle("message-error", !!isError);
  }
  // The listing says which query shows it (folder, view, order, page, search): a refresh keeps all of them.
  function refresh() {
    const listing = document.getElementById("listing");
    const query = listing ? listing.dataset.query : "?path=" + encodeURIComponent(currentPath());
    window.htmx.ajax("GET", app.dataset.listUrl + query, {target: "#listing", swap: "outerHTML"});
  }
  function refreshTasks() {
    const poller = document.getElementById("tasks-poller");
    if (poller && window.htmx) { window.htmx.trigger(poller, "casa:poll"); }
  }
  function selected() {
    return Array.from(document.querySelectorAll("#listing input.select:checked")).map(function (el) {
      return {path: el.dataset.path, name: el.dataset.name};
    });
  }
  async function call(method, endpoint, body) {
    const result = await F.api(method, app.dataset.api + endpoint, body);
    if (!result.ok) { say(F.detail(result), true); } else { say(""); }
    return result;
  }
  // A message template from the page ("Rename “{name}”") filled in.
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return key in values ? values[key] : all; });
  }
  function validName(value) {
    const name = value.trim();
    if (name.indexOf("/") >= 0) { return msg.msgNameSlash; }
    return name === "." || name === ".." ? msg.msgNameDots : "";
  }
  // Ask in the page's dialog; the server's refusal ("already exists") shows beside the field, the dialog stays.
  function askThenCall(options, endpoint, bodyOf, after) {
    return window.casaDialog.prompt(Object.assign({}, options, {
      submit: async function (value) {
        const result = await F.api("POST", app.dataset.api + endpoint, bodyOf(value.trim()));
        if (!result.ok) { return F.detail(result); }
        say("");
        after(result);
        return "";
      },
    }));
  }

  // Bulk actions wait for a selection; the count says what they will act on.
  function syncSelection() {
    const count = selected().length;
    document.querySelectorAll("[data-selection]").forEach(function (button) { button.disabled = count === 0; });
    const label = document.getElementById("selection-count");
    label.textContent = count ? fill(label.dataset.some, {count: count}) : label.dataset.none;
    const all = document.getElementById("select-all");
    const boxes = document.querySelectorAll("#listing input.select");
    if (all) { all.checked = count > 0 && count === boxes.length; all.indeterminate = count > 0 && count < boxes.length; }
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("#listing input.select, #select-all")) { syncSelection(); }
  });
  ["htmx:afterSettle", "htmx:historyRestore"].forEach(function (type) { document.body.addEventListener(type, syncSelection); });

  // The upload area says how much room the disk of the folder shown has (the listing carries it, per folder).
  function syncFree() {
    const listing = document.getElementById("listing");
    const free = document.getElementById("upload-free");
    if (free) { free.textContent = listing ? listing.dataset.free || "" : ""; }
  }
  ["htmx:afterSettle", "htmx:historyRestore"].forEach(function (type) { document.body.addEventListener(type, syncFree); });

  // ---------------------------------------------------------------- folder actions
  function create(kind) {
    const title = kind === "mkdir" ? msg.msgNewFolder : msg.msgNewFile;
    return askThenCall({title: title, label: msg.msgName, ok: msg.msgCreate, validate: validName}, kind + "/",
      function (name) { return {path: currentPath(), name: name}; }, refresh);
  }
  function rename(el) {
    return askThenCall({title: fill(msg.msgRenameTitle, {name: el.dataset.name}), label: msg.msgName, value: el.dataset.name,
      ok: msg.msgRename, validate: validName, select: el.dataset.dir ? "all" : "stem"}, "rename/",
      function (name) { return {path: el.dataset.rename, name: name}; }, refresh);
  }
  function transfer(action, items) {
    const one = items.length === 1;
    const template = action === "move" ? msg.msgMoveTitle : msg.msgCopyTitle;
    const title = one ? fill(template, {name: items[0].name}) : fill(template, {name: names(items)});
    return askThenCall({title: title, label: msg.msgDestination, value: currentPath(),
      ok: action === "move" ? msg.msgMove : msg.msgCopy}, action + "/", function (destination) {
      return {sources: paths(items), destination: destination, conflict: document.getElementById("conflict-policy").value};
    }, refreshTasks);
  }
  async function remove(items) {
    const text = items.length === 1 ? fill(msg.msgDeleteTitle, {name: items[0].name})
      : fill(msg.msgDeleteMany, {count: items.length, names: names(items)});
    if (!(await window.casaDialog.confirm({text: text, ok: msg.msgDelete, danger: true}))) { return; }
    if ((await call("POST", "delete/", {paths: paths(items)})).ok) { refresh(); }
  }
  function compress(items) {
    return askThenCall({title: msg.msgArchiveTitle, text: names(items), label: msg.msgArchive, value: "archive.zip",
      ok: msg.msgCompress, validate: validName, select: "stem"}, "compress/",
      function (name) { return {paths: paths(items), destination: currentPath(), name: name}; }, refreshTasks);
  }
  function paths(items) { return items.map(function (item) { return item.path; }); }
  function names(items) {
    const shown = items.slice(0, 5).map(function (item) { return item.name; }).join(", ");
    return items.length > 5 ? shown + ", …" : shown;
  }

  // Name search under the folder shown: the results replace the listing (clickable, with the folder of each).
  document.getElementById("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const q = event.target.elements.q.value.trim();
    const params = new URLSearchParams({path: currentPath()});
    if (q) { params.set("q", q); }
    const url = app.dataset.listUrl + "?" + params.toString();
    window.htmx.ajax("GET", url, {target: "#listing", swap: "outerHTML"}).then(function () {
      window.history.pushState({}, "", url);
    });
  });

  // ---------------------------------------------------------------- share and permissions dialogs
  const shareDialog = document.getElementById("share-dialog");
  const shareForm = document.getElementById("share-dialog-form");
  function openShare(el) {
    shareForm.reset();
    shareForm.elements.path.value = el.dataset.share;
    shareForm.querySelector("[data-folder-only]").disabled = el.dataset.dir !== "1";
    document.getElementById("share-target").textContent = el.dataset.share;
    document.getElementById("share-dialog-result").hidden = true;
    shareDialog.showModal();
  }
  shareForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    const body = {path: shareForm.elements.path.value, access: shareForm.elements.access.value,
      password: shareForm.elements.password.value};
    if (shareForm.elements.expires_at.value) { body.expires_at = new Date(shareForm.elements.expires_at.value).toISOString(); }
    const result = await F.api("POST", app.dataset.sharesUrl, body);
    document.getElementById("share-dialog-result").hidden = false;
    document.getElementById("share-dialog-url").value = result.ok ? result.data.url : F.detail(result);
  });
  document.addEventListener("click", function (event) {
    const closer = event.target.closest("[data-close]");
    if (closer && closer.closest("#share-dialog")) { shareDialog.close(); }
  });
  document.body.addEventListener("casa:permissions-changed", function () {
    const dialog = document.getElementById("permissions-dialog");
    if (dialog && dialog.open) { dialog.close(); }
    refresh();
  });

  document.addEventListener("click", async function (event) {
    const el = event.target.closest("button, input, a[data-download]");
    if (!el || !app.contains(el)) { return; }
    const menu = el.closest("details.row-menu");
    if (menu && el.tagName !== "SUMMARY") { menu.open = false; }  // an action chosen: its menu closes
    if (el.id === "select-all") {
      document.querySelectorAll("#listing input.select").forEach(function (box) { box.checked = el.checked; });
      syncSelection();
    } else if (el.dataset.create) {
      await create(el.dataset.create);
    } else if (el.dataset.rename) {
      await rename(el);
    } else if (el.dataset.move || el.dataset.copy) {
      await transfer(el.dataset.move ? "move" : "copy", [{path: el.dataset.move || el.dataset.copy, name: el.dataset.name}]);
    } else if (el.dataset.delete) {
      await remove([{path: el.dataset.delete, name: el.dataset.name}]);
    } else if (el.dataset.share) {
      openShare(el);
    } else if (el.dataset.size) {
      const result = await call("GET", "size/?path=" + encodeURIComponent(el.dataset.size));
      if (result.ok) { el.textContent = formatBytes(result.data.size); }
    } else if (el.dataset.cancelTask) {
      await call("POST", "tasks/" + el.dataset.cancelTask + "/cancel/");
      refreshTasks();
    } else if (el.dataset.selection) {
      await selectionAction(el.dataset.selection);
    }
  });

  // A row menu closes when the user clicks elsewhere or presses Escape, as a menu does.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.row-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    const menu = event.key === "Escape" && event.target.closest && event.target.closest("details.row-menu[open]");
    if (menu) { menu.open = false; menu.querySelector("summary").focus(); }
  });

  async function selectionAction(action) {
    const items = selected();
    if (!items.length) { return; }
    if (action === "zip") {
      const query = items.map(function (item) { return "path=" + encodeURIComponent(item.path); }).join("&");
      window.location.href = app.dataset.api + "zip/?" + query;
    } else if (action === "delete") {
      await remove(items);
    } else if (action === "copy" || action === "move") {
      await transfer(action, items);
    } else if (action === "compress") {
      await compress(items);
    }
  }

  // Another tab, a task or an upload changed a folder: refresh the listing when it is the one shown.
  document.body.addEventListener("htmx:oobAfterSwap", function (event) {
    const target = event.detail.target;
    if (target && target.id === "files-changed" && target.dataset.folder === currentPath()) { refresh(); }
    if (target && target.id && target.id.indexOf("task-") === 0 && target.dataset.status === "done") { refresh(); }
  });

  // Thumbnails are made by a worker: a 202 answer is not an image, so try again shortly.
  document.body.addEventListener("error", function (event) {
    const img = event.target;
    if (!(img instanceof HTMLImageElement) || !img.hasAttribute("data-thumb")) { return; }
    const tries = Number(img.dataset.tries || 0);
    if (tries >= 6) { return; }
    img.dataset.tries = String(tries + 1);
    setTimeout(function () { img.src = img.src.split("&t=")[0] + "&t=" + Date.now(); }, 1000 * (tries + 1));
  }, true);

  // ---------------------------------------------------------------- uploads (tus)
  const uploads = new Map();  // key -> {loaded, total}

  function formatBytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }
  function updateOverall() {
    let loaded = 0, total = 0;
    uploads.forEach(function (u) { loaded += u.loaded; total += u.total; });
    document.getElementById("upload-overall").hidden = uploads.size === 0;
    const pct = total ? Math.round(100 * loaded / total) : 100;
    document.getElementById("upload-overall-bar").value = pct;
    document.getElementById("upload-overall-text").textContent = pct + "% · " + formatBytes(loaded) + " / " + formatBytes(total);
  }

  function startUpload(file, relativePath) {
    const folder = currentPath();
    const key = folder + "/" + (relativePath || file.name) + ":" + file.size;
    const row = document.createElement("li");
    row.className = "upload-row";
    const label = document.createElement("span");
    label.textContent = relativePath || file.name;
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    const state = document.createElement("small");
    row.append(label, " ", bar, " ", state);
    document.getElementById("upload-list").append(row);
    uploads.set(key, {loaded: 0, total: file.size});
    updateOverall();
    const metadata = {filename: file.name, filetype: file.type || "application/octet-stream", path: folder};
    if (relativePath && relativePath.indexOf("/") > 0) { metadata.relativePath = relativePath; }
    const upload = new window.tus.Upload(file, {
      endpoint: app.dataset.uploadUrl,
      chunkSize: Number(app.dataset.chunkSize),
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      metadata: metadata,
      headers: {"X-CSRFToken": F.csrfToken()},
      fingerprint: function (f) { return Promise.resolve(["casa-files", folder, relativePath || f.name, f.size, f.lastModified].join("|")); },
      removeFingerprintOnSuccess: true,
      // Not enough space (507) does not heal within the retries: say why at once, not after each retry has failed.
      onShouldRetry: function (error, attempt, options) {
        const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
        return status !== 507 && window.tus.defaultOptions.onShouldRetry(error, attempt, options);
      },
      onProgress: function (sent, total) {
        const pct = total ? Math.round(100 * sent / total) : 100;
        bar.value = pct;
        state.textContent = pct + "%";
        uploads.get(key).loaded = sent;
        updateOverall();
      },
      onError: function (error) {
        state.textContent = msg.msgFailed + ": " + (error.originalResponse ? error.originalResponse.getBody() : error.message);
        row.classList.add("bad");
      },
      onSuccess: function () {
        bar.value = 100;
        state.textContent = msg.msgDone;
        row.classList.add("ok");
        row.dataset.done = "1";
        uploads.get(key).loaded = file.size;
        updateOverall();
        if (currentPath() === folder) { refresh(); }
      },
    });
    // A reload or a dropped connection: pick up where the server says it is.
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) { upload.resumeFromPreviousUpload(previous[0]); }
      upload.start();
    });
  }

  function readEntry(entry, prefix) {
    if (entry.isFile) {
      entry.file(function (file) { startUpload(file, prefix + file.name); });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      const readBatch = function () {
        reader.readEntries(function (entries) {
          entries.forEach(function (child) { readEntry(child, prefix + entry.name + "/"); });
          if (entries.length) { readBatch(); }
        });
      };
      readBatch();
    }
  }

  const zone = document.getElementById("drop-zone");
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  zone.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("dragging");
    const items = Array.from(event.dataTransfer.items || []);
    const entries = items.map(function (item) { return item.webkitGetAsEntry ? item.webkitGetAsEntry() : null; });
    if (entries.length && entries.every(Boolean)) {
      entries.forEach(function (entry) { readEntry(entry, ""); });  // folders keep their tree
    } else {
      Array.from(event.dataTransfer.files).forEach(function (file) { startUpload(file, ""); });
    }
  });
  document.getElementById("file-input").addEventListener("change", function (event) {
    Array.from(event.target.files).forEach(function (file) { startUpload(file, ""); });
    event.target.value = "";
  });
  document.getElementById("folder-input").addEventListener("change", function (event) {
    Array.from(event.target.files).forEach(function (file) { startUpload(file, file.webkitRelativePath || file.name); });
    event.target.value = "";
  });
})();
