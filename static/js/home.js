// Home page: the search box ("/" focuses it; arrows choose a result, Enter opens it, Escape clears) and the
// widget switches (saved at once; the page hides a widget by a class, the live figures keep coming for all).
(function () {
  "use strict";

  function input() { return document.getElementById("home-search"); }
  function options() { return Array.from(document.querySelectorAll("#search-results [role=option]")); }
  const TEXT_INPUTS = /^(text|search|email|password|number|url|tel|date|time|datetime-local|month|week)$/;
  function typing(el) {
    if (!el) { return false; }
    return el.isContentEditable || /^(TEXTAREA|SELECT)$/.test(el.tagName) || (el.tagName === "INPUT" && TEXT_INPUTS.test(el.type));
  }

  function close() {
    const results = document.getElementById("search-results");
    if (results) { results.innerHTML = ""; }
    if (input()) { input().setAttribute("aria-expanded", "false"); }
  }

  function choose(index) {
    const all = options();
    all.forEach(function (o, i) { o.setAttribute("aria-selected", String(i === index)); o.classList.toggle("active", i === index); });
    const box = input();
    if (index >= 0 && all[index]) {
      box.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }

  function current() { return options().findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; }); }

  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && !typing(document.activeElement) && input() && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      input().focus();
      input().select();
    }
  });

  document.addEventListener("keydown", function (e) {
    if (e.target !== input()) { return; }
    const all = options();
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!all.length) { return; }
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      choose((current() + step + all.length) % all.length);
    } else if (e.key === "Enter" && current() >= 0) {
      e.preventDefault();
      window.location.assign(all[current()].href);
    } else if (e.key === "Escape") {
      input().value = "";
      close();
      choose(-1);
    }
  });

  // A click outside the search box closes its results.
  document.addEventListener("click", function (e) {
    if (input() && !(e.target.closest && e.target.closest(".home-search"))) { close(); }
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target.id !== "search-results") { return; }
    const some = options().length > 0;
    input().setAttribute("aria-expanded", String(some));
    choose(some ? 0 : -1);  // Enter opens the first result straight away
  });

  // Widgets: each switch is saved as soon as it changes.
  document.addEventListener("change", function (e) {
    if (!e.target.matches("[data-widget-toggle]")) { return; }
    const form = e.target.form;
    document.getElementById("home-widgets").classList.toggle("hide-" + e.target.value, !e.target.checked);
    const headers = Object.assign({ "HX-Request": "true" }, JSON.parse(document.body.getAttribute("hx-headers") || "{}"));
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: headers });
  });
})();
