// App store page glue: confirm before removing a store. (Search, filters and live rows are htmx.)
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches && form.matches("form.confirm") && !window.confirm(form.dataset.confirm || "Sure?")) {
      event.preventDefault();
    }
  }, true);
})();
