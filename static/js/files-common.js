// Shared helpers of the file manager pages: CSRF-carrying JSON calls to /api/files/.
(function () {
  "use strict";
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }
  async function api(method, url, body, headers) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: Object.assign({"Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json"}, headers || {}),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    const text = await response.text();
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = {detail: text}; }
    return {ok: response.ok, status: response.status, data: data, headers: response.headers};
  }
  function detail(result) {
    if (!result.data) { return String(result.status); }
    if (result.data.detail) { return result.data.detail; }
    return Object.entries(result.data).map(function (kv) { return kv[0] + ": " + kv[1]; }).join("; ");
  }
  function join(folder, name) { return folder ? folder + "/" + name : name; }
  window.casaFiles = {csrfToken: csrfToken, api: api, detail: detail, join: join};
})();
