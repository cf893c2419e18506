#!/usr/bin/env bash
# Builds plugin.js into {{name}}.wasm, a WebAssembly component, with componentize-js.
#
#   ./build.sh            build (installs the pinned componentize-js with `npm ci` first)
#   FORCE=1 ./build.sh    rebuild even if {{name}}.wasm is newer than its sources
#
# Needs Node.js >= 20 and npm. package-lock.json pins every build dependency.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if ((node_major < 20)); then
    echo "build.sh: componentize-js needs Node.js >= 20 (found: $(node --version 2>/dev/null || echo none))" >&2
    exit 1
fi
if [[ ! -x node_modules/.bin/componentize-js || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
fi
if [[ -z "${FORCE:-}" && -f {{name}}.wasm && {{name}}.wasm -nt plugin.js && {{name}}.wasm -nt wit/plugin.wit ]]; then
    echo "build.sh: {{name}}.wasm is up to date" >&2
    exit 0
fi
# --disable: no WASI at all (console, clocks, random, fetch): the component imports only the
# plugin contract, which is all the host offers. Log with `log` from the host interface.
node_modules/.bin/componentize-js plugin.js --wit wit --world-name pattern-plugin \
    --disable stdio random clocks http fetch-event --out {{name}}.wasm.tmp >&2
mv {{name}}.wasm.tmp {{name}}.wasm
echo "build.sh: built $(pwd)/{{name}}.wasm" >&2
