#!/usr/bin/env bash
# Builds the JavaScript pattern plugins into WebAssembly components with componentize-js.
#
#   plugins/js/build.sh                    build every plugins/js/<name>/plugin.js
#   plugins/js/build.sh js-config-reload   build one
#   FORCE=1 plugins/js/build.sh            rebuild even if the .wasm is up to date
#
# Output: plugins/js/target/<name>.wasm. componentize-js (pinned in package.json, every
# dependency pinned in package-lock.json) is installed with `npm ci` into
# ${KP_TOOLS_DIR:-<repo>/.tools}/componentize-js on first use (override with
# COMPONENTIZE_JS_DIR). Needs Node >= 20 and npm.
# Safe to run again: each step is skipped when its result is already there and current.
#
# The components are "pure": every WASI feature of the JS engine is disabled (-d), so they
# import nothing but the plugin contract. console.log, Math.random's entropy, Date.now and
# fetch are not available; use the host's `log` import.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
wit="$repo/wit"
world=pattern-plugin
tools="${COMPONENTIZE_JS_DIR:-${KP_TOOLS_DIR:-$repo/.tools}/componentize-js}"
target="$here/target"
cjs="$tools/node_modules/.bin/componentize-js"

log() { printf 'build.sh: %s\n' "$*" >&2; }

command -v node >/dev/null 2>&1 || { log "node not found: install Node.js >= 20"; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 20)); then
    log "node $(node --version) is too old: componentize-js needs Node.js >= 20"
    exit 1
fi

# 1. componentize-js, exactly as locked.
want="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)"
stamp="$tools/.stamp"
if [[ ! -x "$cjs" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "installing componentize-js ($(node -p "require('$here/package.json').devDependencies['@bytecodealliance/componentize-js']")) into $tools"
    mkdir -p "$tools"
    cp "$here/package.json" "$here/package-lock.json" "$tools/"
    (cd "$tools" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    printf '%s\n' "$want" >"$stamp"
fi

# 2. Components.
if (($#)); then
    names=("$@")
else
    names=()
    for src in "$here"/*/plugin.js; do
        names+=("$(basename "$(dirname "$src")")")
    done
fi

mkdir -p "$target"
for name in "${names[@]}"; do
    src="$here/$name"
    out="$target/$name.wasm"
    if [[ ! -f "$src/plugin.js" ]]; then
        log "no $src/plugin.js"
        exit 1
    fi
    if [[ -z "${FORCE:-}" && -f "$out" && "$out" -nt "$stamp" ]] &&
        [[ -z "$(find "$src" "$wit" -newer "$out" \( -name '*.js' -o -name '*.wit' \))" ]]; then
        log "$name: up to date (${out#"$repo"/})"
        continue
    fi
    log "$name: componentize-js -> ${out#"$repo"/}"
    start=$(date +%s)
    "$cjs" "$src/plugin.js" --wit "$wit" --world-name "$world" \
        --disable stdio random clocks http fetch-event --out "$out.tmp" >&2
    mv "$out.tmp" "$out"
    log "$name: $(stat -c %s "$out") bytes in $(($(date +%s) - start)) s"
done
