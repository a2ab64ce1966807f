// The bell's drop-down (closes on Escape and on a click elsewhere), the service worker that makes the site an
// installable app and receives Web Push, and the settings page's "Send alerts here" button.
(function () {
  "use strict";

  function closeOnOutside(event) {
    const menu = document.getElementById("notify-menu");
    if (menu && menu.open && !menu.contains(event.target)) { menu.open = false; }
  }
  document.addEventListener("click", closeOnOutside);
  document.addEventListener("keydown", function (event) {
    const menu = document.getElementById("notify-menu");
    if (event.key === "Escape" && menu && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  // The bell says whether its socket is open (tests and styles read it; the poll takes over while it is not).
  ["htmx:wsOpen", "htmx:wsClose"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      const bell = event.target.closest && event.target.closest(".notify-nav > li");
      if (bell) { bell.dataset.socket = name === "htmx:wsOpen" ? "open" : "closed"; }
    });
  });

  function registerWorker() {
    if (!("serviceWorker" in navigator)) { return Promise.resolve(null); }
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { return null; });
  }

  function keyBytes(base64url) {
    const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - base64url.length % 4) % 4));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  }

  function csrfToken() {
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    return headers["X-CSRFToken"] || "";
  }

  function say(box, key) {
    document.getElementById("push-status").textContent = box.dataset[key] || key;
  }

  async function subscribe(box) {
    if (!("PushManager" in window) || !window.isSecureContext) { say(box, "unsupported"); return; }
    const registration = await registerWorker().then(function () { return navigator.serviceWorker.ready; });
    if ((await Notification.requestPermission()) !== "granted") { say(box, "denied"); return; }
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.key),
    });
    const response = await fetch(box.dataset.api, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ kind: "webpush", name: navigator.userAgent.slice(0, 100), subscription: subscription.toJSON() }),
    });
    if (!response.ok) {
      const answer = await response.json().catch(function () { return {}; });
      document.getElementById("push-status").textContent = answer.detail || response.statusText;
      return;
    }
    say(box, "added");
    setTimeout(function () { window.location.reload(); }, 800);
  }

  document.addEventListener("DOMContentLoaded", function () {
    registerWorker();
    const box = document.getElementById("push-box");
    const button = document.getElementById("push-subscribe");
    if (box && button) {
      button.addEventListener("click", function () {
        subscribe(box).catch(function (error) { document.getElementById("push-status").textContent = String(error); });
      });
    }
  });
})();
