// The file view: text editor with ETag conflict detection, share link creation, extract.
(function () {
  "use strict";
  const box = document.getElementById("preview");
  if (!box) { return; }
  const F = window.casaFiles;
  const path = box.dataset.path;
  let etag = null;

  const editor = document.getElementById("editor");
  const status = document.getElementById("editor-status");
  if (editor) {
    F.api("GET", box.dataset.textUrl + "?path=" + encodeURIComponent(path)).then(function (result) {
      if (result.ok) { editor.value = result.data.content; etag = result.data.etag; }
      else { status.textContent = F.detail(result); editor.readOnly = true; }
    });
    document.getElementById("editor-form").addEventListener("submit", async function (event) {
      event.preventDefault();
      const result = await F.api("PUT", box.dataset.contentUrl + "?path=" + encodeURIComponent(path),
        {content: editor.value}, {"If-Match": '"' + etag + '"'});
      if (result.ok) { etag = result.data.etag; status.textContent = box.dataset.msgSaved; }
      else { status.textContent = result.status === 412 ? box.dataset.msgConflict : F.detail(result); }
    });
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
