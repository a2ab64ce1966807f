// Owner, group and mode (admins): the form on the file page and the dialog of the folder page, over the JSON API.
(function () {
  "use strict";
  const F = window.casaFiles;
  const FIELDS = ["mode", "owner", "group"];

  function fill(form, values) {
    form.elements.path.value = values.path;
    FIELDS.forEach(function (key) {
      form.elements[key].value = values[key];
      form.elements[key].dataset.initial = values[key];
    });
    form.elements.recursive.checked = false;
    form.querySelector(".recursive").hidden = !values.isDir;
    form.querySelector(".permissions-message").textContent = "";
  }

  // The folder page: each row's "Permissions" button opens the dialog filled with that entry.
  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-permissions]");
    const dialog = document.getElementById("permissions-dialog");
    if (opener && dialog) {
      fill(dialog.querySelector("form"), {path: opener.dataset.permissions, mode: opener.dataset.mode,
        owner: opener.dataset.owner, group: opener.dataset.group, isDir: opener.dataset.dir === "1"});
      document.getElementById("permissions-target").textContent = opener.dataset.permissions;
      dialog.showModal();
    }
    const closer = event.target.closest("[data-close]");
    if (closer) { closer.closest("dialog").close(); }
  });

  document.querySelectorAll("form.permissions-form").forEach(function (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const recursive = form.elements.recursive.checked;
      const body = {path: form.elements.path.value, recursive: recursive};
      // Only what changed, unless the values are to be applied to a whole tree.
      FIELDS.forEach(function (key) {
        const input = form.elements[key];
        if (input.value && (recursive || input.value !== input.dataset.initial)) { body[key] = input.value; }
      });
      const out = form.querySelector(".permissions-message");
      const result = await F.api("POST", form.dataset.api, body);
      if (!result.ok) { out.textContent = F.detail(result); return; }
      out.textContent = form.dataset.msgDone;
      FIELDS.forEach(function (key) { form.elements[key].dataset.initial = form.elements[key].value; });
      form.dispatchEvent(new CustomEvent("casa:permissions-changed", {bubbles: true, detail: result.data}));
    });
  });
})();
