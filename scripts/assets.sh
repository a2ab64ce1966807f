#!/usr/bin/env bash
# Front-end libraries come from the npm registry and are copied into static/vendor/ (never committed).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
stamp="node_modules/.casaos-$(cat package.json $(ls package-lock.json 2>/dev/null) | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  # A worktree's node_modules may link to another checkout's: npm ci would empty that one, not make a copy.
  [ -L node_modules ] && die "node_modules links to $(readlink node_modules), whose packages are not those of package-lock.json: run the set-up there"
  say "installing front-end packages from npm"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  rm -f node_modules/.casaos-*; touch "$stamp"
fi
vendor="static/vendor"
copy() { mkdir -p "$vendor/$2"; cp -f "node_modules/$1" "$vendor/$2/"; }
copy @picocss/pico/css/pico.min.css pico
copy htmx.org/dist/htmx.min.js htmx
copy htmx-ext-ws/ws.js htmx
copy tus-js-client/dist/tus.min.js tus
copy @xterm/xterm/lib/xterm.js xterm
copy @xterm/xterm/css/xterm.css xterm
copy @xterm/addon-fit/lib/addon-fit.js xterm
copy uplot/dist/uPlot.iife.min.js uplot
copy uplot/dist/uPlot.min.css uplot
# The file editor: our entry module (static/src/editor.js) with CodeMirror 6, bundled into one script (no eval).
node_modules/.bin/esbuild static/src/editor.js --bundle --minify --format=iife --target=es2020 \
  --log-level=warning --outfile="$vendor/codemirror/editor.js"
[ -f scripts/assets.extra ] && source scripts/assets.extra
true
