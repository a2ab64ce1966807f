// DRF's browsable API writes a bare <html> (its base template has no block for it): give it the page's language,
// which screen readers need to pronounce it. Its format menu button shows only a caret, and its tooltip script
// takes the title away: the button keeps that title as its accessible name.
document.documentElement.lang = document.currentScript.dataset.lang || "en";
document.querySelectorAll(".dropdown-toggle[title]").forEach(function (button) {
  button.setAttribute("aria-label", button.getAttribute("title"));
});
