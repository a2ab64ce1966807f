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
  function refresh() {
    const params = new URLSearchParams(window.location.search);
    params.set("path", currentPath());
    window.htmx.ajax("GET", app.dataset.listUrl + "?" + params.toString(), {target: "#listing", swap: "outerHTML"});
  }
  function refreshTasks() {
    const poller = document.getElementById("tasks-poller");
    if (poller && window.htmx) { window.htmx.trigger(poller, "casa:poll"); }
  }
  function selection() {
    return Array.from(document.querySelectorAll("#listing input.select:checked")).map(function (el) { return el.dataset.path; });
  }
  async function call(method, endpoint, body) {
    const result = await F.api(method, app.dataset.api + endpoint, body);
    if (!result.ok) { say(F.detail(result), true); } else { say(""); }
    return result;
  }

  // ---------------------------------------------------------------- folder actions
  document.querySelectorAll("form[data-action]").forEach(function (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const name = form.elements.name.value;
      const result = await call("POST", form.dataset.action + "/", {path: currentPath(), name: name});
      if (result.ok) { form.reset(); refresh(); }
    });
  });

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
    const el = event.target.closest("button, input");
    if (!el) { return; }
    if (el.id === "select-all") {
      document.querySelectorAll("#listing input.select").forEach(function (box) { box.checked = el.checked; });
    } else if (el.dataset.rename) {
      const name = window.prompt(msg.msgName, el.dataset.name);
      if (name && name !== el.dataset.name) {
        const result = await call("POST", "rename/", {path: el.dataset.rename, name: name});
        if (result.ok) { refresh(); }
      }
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

  async function selectionAction(action) {
    const paths = selection();
    if (!paths.length) { return; }
    if (action === "zip") {
      const query = paths.map(function (p) { return "path=" + encodeURIComponent(p); }).join("&");
      window.location.href = app.dataset.api + "zip/?" + query;
    } else if (action === "delete") {
      if (!window.confirm(msg.msgConfirmDelete)) { return; }
      if ((await call("POST", "delete/", {paths: paths})).ok) { refresh(); }
    } else if (action === "copy" || action === "move") {
      const destination = window.prompt(msg.msgDestination, currentPath());
      if (destination === null) { return; }
      const conflict = document.getElementById("conflict-policy").value;
      if ((await call("POST", action + "/", {sources: paths, destination: destination, conflict: conflict})).ok) { refreshTasks(); }
    } else if (action === "compress") {
      const name = window.prompt(msg.msgArchive, "archive.zip");
      if (!name) { return; }
      if ((await call("POST", "compress/", {paths: paths, destination: currentPath(), name: name})).ok) { refreshTasks(); }
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
