// Trash, share links and member folders: small list pages acting over the JSON API.
(function () {
  "use strict";
  const F = window.casaFiles;
  function reload() { window.location.reload(); }

  // Each irreversible action names what goes and asks in the page's dialog first (casa.js).
  function ask(el, template) {
    return window.casaDialog.confirm({text: template.replace("{name}", el.dataset.name), ok: el.textContent.trim(), danger: true});
  }

  document.addEventListener("click", async function (event) {
    const el = event.target.closest("button");
    if (!el) { return; }
    const trash = document.getElementById("trash");
    if (el.dataset.restore) {
      if ((await F.api("POST", trash.dataset.api + el.dataset.restore + "/restore/")).ok) { reload(); }
    } else if (el.dataset.purge) {
      if (await ask(el, trash.dataset.msgPurge) && (await F.api("DELETE", trash.dataset.api + el.dataset.purge + "/")).ok) { reload(); }
    } else if (el.hasAttribute("data-trash-empty")) {
      if (await ask(el, trash.dataset.msgEmpty) && (await F.api("POST", trash.dataset.api + "empty/")).ok) { reload(); }
    } else if (el.dataset.revoke) {
      const shares = document.getElementById("shares");
      if (await ask(el, shares.dataset.msgRevoke) && (await F.api("DELETE", shares.dataset.api + el.dataset.revoke + "/")).ok) { reload(); }
    } else if (el.dataset.grantDelete) {
      const grants = document.getElementById("grants");
      if (await ask(el, grants.dataset.msgDelete) && (await F.api("DELETE", grants.dataset.api + el.dataset.grantDelete + "/")).ok) { reload(); }
    }
  });

  const grantForm = document.getElementById("grant-form");
  if (grantForm) {
    grantForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      const body = Object.fromEntries(new FormData(grantForm).entries());
      body.user = Number(body.user);
      const result = await F.api("POST", grantForm.dataset.api, body);
      if (result.ok) { reload(); } else { document.getElementById("grant-message").textContent = F.detail(result); }
    });
  }
})();
