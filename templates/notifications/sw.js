{% load static %}// The service worker (served from /sw.js, so its scope is the whole site): shows Web Push messages and opens
// their page when one is clicked. It caches nothing: a home server's pages are live state.
"use strict";
const ICON = "{% static 'img/icon-192.png' %}";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", function (event) {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = { body: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || "CasaOS", {
    body: data.body || "", icon: ICON, badge: ICON, tag: data.kind || "casaos",
    data: { link: data.link || "/notifications/" },
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  const link = new URL(event.notification.data.link, self.location.origin);
  if (link.origin !== self.location.origin) { return; }  // only our own pages
  event.waitUntil(self.clients.matchAll({ type: "window" }).then(function (windows) {
    for (const client of windows) {
      if (client.url === link.href && "focus" in client) { return client.focus(); }
    }
    return self.clients.openWindow(link.href);
  }));
});
