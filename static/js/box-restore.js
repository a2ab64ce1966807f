// The setup page's restore: once the status says "done", wait for the restarted server, then open the login page.
(function () {
  "use strict";

  let waiting = false;

  function loginWhenBack() {
    fetch("/login/", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.ok) { window.location.assign("/login/"); } else { window.setTimeout(loginWhenBack, 2000); }
      })
      .catch(function () { window.setTimeout(loginWhenBack, 2000); });
  }

  function check() {
    const status = document.getElementById("box-restore-status");
    if (!waiting && status && status.dataset.state === "done") {
      waiting = true;
      window.setTimeout(loginWhenBack, 1000);
    }
  }

  document.addEventListener("htmx:afterSwap", check);
  document.addEventListener("htmx:oobAfterSwap", check);
  document.addEventListener("DOMContentLoaded", check);
}());
