// The file view: the text editor with its conflict check, share link creation, extract.
(function () {
  "use strict";
  const box = document.getElementById("preview");
  if (!box) { return; }
  const F = window.casaFiles;
  const path = box.dataset.path;
  let etag = null;

  // The text editor (CodeMirror, static/src/editor.js). A save sends the version it was opened at (If-Match): a file
  // changed meanwhile elsewhere is refused (412) and the user is told, instead of overwriting the other change.
  const form = document.getElementById("editor-form");
  const status = document.getElementById("editor-status");
  let view = null;
  function tell(text, bad) {
    status.textContent = text;
    status.classList.toggle("bad", Boolean(bad));
  }
  async function save() {
    if (!view || !form.dataset.writable) { return; }
    const result = await F.api("PUT", box.dataset.contentUrl + "?path=" + encodeURIComponent(path),
      {content: view.state.doc.toString()}, {"If-Match": '"' + etag + '"'});
    if (result.ok) { etag = result.data.etag; tell(box.dataset.msgSaved); }
    else { tell(result.status === 412 ? box.dataset.msgConflict : F.detail(result), true); }
  }
  if (form) {
    F.api("GET", box.dataset.textUrl + "?path=" + encodeURIComponent(path)).then(function (result) {
      if (!result.ok) { tell(F.detail(result), true); return; }
      etag = result.data.etag;
      view = window.casaEditor.create(document.getElementById("editor"), {doc: result.data.content,
        name: form.dataset.name, readOnly: !form.dataset.writable, nonce: form.dataset.nonce,
        label: form.dataset.label, onSave: save});
      form.dataset.ready = "1";
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); save(); });
  }

  const shareForm = document.getElementById("share-form");
  shareForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    const body = {path: path, access: shareForm.elements.access.value, password: shareForm.elements.password.value};
    if (shareForm.elements.expires_at.value) { body.expires_at = new Date(shareForm.elements.expires_at.value).toISOString(); }
    const result = await F.api("POST", box.dataset.sharesUrl, body);
    const out = document.getElementById("share-url");
    document.getElementById("share-result").hidden = false;
    out.value = result.ok ? result.data.url : F.detail(result);
  });

  // An admin changed owner, group or mode below: show the new values in the header.
  document.body.addEventListener("casa:permissions-changed", function (event) {
    document.getElementById("entry-mode").textContent = event.detail.mode;
    document.getElementById("entry-owner").textContent = event.detail.owner + ":" + event.detail.group;
  });

  const extract = document.getElementById("extract-button");
  if (extract) {
    extract.addEventListener("click", async function () {
      const result = await F.api("POST", box.dataset.extractUrl, {path: path, destination: box.dataset.parent});
      document.getElementById("preview-message").textContent = result.ok ? box.dataset.msgExtract : F.detail(result);
    });
  }
})();
