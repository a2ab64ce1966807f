// The text editor of the file page: CodeMirror 6, bundled at set-up by scripts/assets.sh (esbuild) into
// static/vendor/codemirror/editor.js. Our code only; the page script (files-preview.js) drives it through
// window.casaEditor.create(). No eval and no inline script: styles go into <style> elements carrying the page's
// CSP nonce (EditorView.cspNonce).
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { EditorState, Compartment } from "@codemirror/state";
import { StreamLanguage } from "@codemirror/language";
import { indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { json } from "@codemirror/lang-json";
import { python } from "@codemirror/lang-python";
import { markdown } from "@codemirror/lang-markdown";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { properties } from "@codemirror/legacy-modes/mode/properties";
import { oneDark } from "@codemirror/theme-one-dark";

const LANGUAGES = {
  yaml: () => yaml(),
  json: () => json(),
  python: () => python(),
  markdown: () => markdown(),
  shell: () => StreamLanguage.define(shell),
  ini: () => StreamLanguage.define(properties),
};
const SUFFIXES = [
  [/\.(ya?ml)$/, "yaml"],
  [/\.(json|jsonc|json5)$/, "json"],
  [/\.(py|pyw)$/, "python"],
  [/\.(md|markdown)$/, "markdown"],
  [/(\.(sh|bash|zsh|ksh)|^\.?(bashrc|profile|zshrc|bash_profile))$/, "shell"],
  [/(\.(ini|conf|cfg|env|properties|service|desktop)|^\.env(\..+)?)$/, "ini"],
];

// The language a file name calls for ("" for plain text).
export function languageOf(name) {
  const lower = name.toLowerCase();
  const found = SUFFIXES.find(([pattern]) => pattern.test(lower));
  return found ? found[1] : "";
}

// Dark when the page is: the user's theme choice (data-theme on <html>) or else the system's.
function pageIsDark() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === "dark" || chosen === "light") { return chosen === "dark"; }
  return window.matchMedia("(prefers-color-scheme: dark)").matches;
}

const baseTheme = EditorView.theme({
  "&": { fontSize: "0.9rem", border: "1px solid var(--pico-form-element-border-color)", borderRadius: "var(--pico-border-radius)" },
  ".cm-scroller": { fontFamily: "var(--pico-font-family-monospace)", minHeight: "20rem", maxHeight: "70vh" },
  "&.cm-focused": { outline: "2px solid var(--pico-primary-focus, #3b82f6)", outlineOffset: "1px" },
});

function follow(view, themes) {
  const apply = () => view.dispatch({ effects: themes.reconfigure(pageIsDark() ? oneDark : []) });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", apply);
  new MutationObserver(apply).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
}

// An editor in `parent` holding `doc`; Ctrl-S / Cmd-S calls onSave. Returns the EditorView.
export function create(parent, { doc = "", name = "", readOnly = false, nonce = "", label = "", onSave = null }) {
  const themes = new Compartment();
  const language = LANGUAGES[languageOf(name)];
  const save = () => { if (onSave) { onSave(); } return true; };
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        basicSetup,
        keymap.of([{ key: "Mod-s", run: save, preventDefault: true }, indentWithTab]),
        language ? language() : [],
        baseTheme,
        themes.of(pageIsDark() ? oneDark : []),
        EditorView.cspNonce.of(nonce),
        EditorState.readOnly.of(readOnly),
        EditorView.contentAttributes.of({ "aria-label": label }),
      ],
    }),
  });
  follow(view, themes);
  return view;
}

window.casaEditor = { create, languageOf };
