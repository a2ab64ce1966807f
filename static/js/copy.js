// Copy buttons: <button data-copy="element-id" data-copied-text="…" data-select-text="…"> copies that element's text;
// [data-copy-status="element-id"] (a live region) says what happened. The Clipboard API exists only in secure contexts
// (https, localhost): a home server reached as http://192.168.x.y has none, so the text is then selected instead and
// the old copy command tried; if even that fails, the person is told to press Ctrl+C on the selection.
(function () {
  "use strict";

  function selectText(el) {
    const range = document.createRange();
    range.selectNodeContents(el);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function legacyCopy(el) {
    selectText(el);
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  function say(id, text) {
    const status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!status) { return; }
    status.textContent = "";  // a second copy must be announced again: the live region announces changes only
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function copy(button) {
    const id = button.dataset.copy;
    const el = document.getElementById(id);
    if (!el) { return; }
    const text = el.textContent.trim();
    const done = function () { button.classList.add("is-copied"); say(id, button.dataset.copiedText); };
    const fallback = function () {
      if (legacyCopy(el)) { done(); } else { say(id, button.dataset.selectText); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("button[data-copy]");
    if (button) { copy(button); }
  });
})();
