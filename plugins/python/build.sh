#!/usr/bin/env bash
# Builds the Python pattern plugins into WebAssembly components with componentize-py.
#
#   plugins/python/build.sh              build every plugins/python/<name>/app.py
#   plugins/python/build.sh py-log-tail  build one
#   FORCE=1 plugins/python/build.sh      rebuild even if the .wasm is up to date
#
# Output: plugins/python/target/<name>.wasm. Bindings for editors and the unit tests:
# plugins/python/target/bindings. componentize-py (pinned below) is installed into
# ${KP_TOOLS_DIR:-<repo>/.tools}/venv-componentize on first use (override with COMPONENTIZE_PY_VENV).
# Safe to run again: each step is skipped when its result is already there and current.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
wit="$repo/wit"
world=pattern-plugin
venv="${COMPONENTIZE_PY_VENV:-${KP_TOOLS_DIR:-$repo/.tools}/venv-componentize}"
target="$here/target"
bindings="$target/bindings"
cpy="$venv/bin/componentize-py"

log() { printf 'build.sh: %s\n' "$*" >&2; }

# 1. componentize-py, pinned, in its own venv.
installed=""
if [[ -x "$cpy" ]]; then
    installed="$("$cpy" --version 2>/dev/null | awk '{print $2}')" || installed=""
fi
if [[ "$installed" != "$COMPONENTIZE_PY_VERSION" ]]; then
    log "installing componentize-py $COMPONENTIZE_PY_VERSION into $venv"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "componentize-py==$COMPONENTIZE_PY_VERSION"
fi

# 2. Bindings (only for editors and test_app.py: componentize generates its own).
# Regenerated when the WIT or componentize-py changes.
mkdir -p "$target"
stamp="$bindings/.stamp"
want="$COMPONENTIZE_PY_VERSION $(cat "$wit"/*.wit | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "generating bindings in ${bindings#"$repo"/}"
    rm -rf "$bindings"
    "$cpy" -q -d "$wit" -w "$world" bindings "$bindings"
    printf '%s\n' "$want" >"$stamp"
fi

# 3. Components.
if (($#)); then
    names=("$@")
else
    names=()
    for app in "$here"/*/app.py; do
        names+=("$(basename "$(dirname "$app")")")
    done
fi

for name in "${names[@]}"; do
    src="$here/$name"
    out="$target/$name.wasm"
    if [[ ! -f "$src/app.py" ]]; then
        log "no $src/app.py"
        exit 1
    fi
    # Unit tests first (plain CPython >= 3.11 against the generated bindings): seconds cheaper
    # than finding a mistake in the component.
    if [[ -f "$src/test_app.py" ]]; then
        if ! test_log="$(cd "$src" && PYTHONPATH="$src:$bindings" python3 -B -m unittest test_app 2>&1)"; then
            printf '%s\n' "$test_log" >&2
            log "$name: unit tests failed"
            exit 1
        fi
        log "$name: $(printf '%s\n' "$test_log" | grep -m1 '^Ran ')"
    fi
    if [[ -z "${FORCE:-}" && -f "$out" && "$out" -nt "$stamp" ]] &&
        [[ -z "$(find "$src" "$wit" -newer "$out" -name '*.py' -o -newer "$out" -name '*.wit')" ]]; then
        log "$name: up to date (${out#"$repo"/})"
        continue
    fi
    log "$name: componentize -> ${out#"$repo"/}"
    start=$(date +%s)
    # -p: the app's own directory (the bindings are built in); componentize-py also bundles
    # the active virtualenv's site-packages when VIRTUAL_ENV is set.
    (cd "$src" && "$cpy" -q -d "$wit" -w "$world" componentize app -p "$src" -o "$out.tmp")
    mv "$out.tmp" "$out"
    log "$name: $(stat -c %s "$out") bytes in $(($(date +%s) - start)) s"
done
