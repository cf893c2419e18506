#!/usr/bin/env bash
# Builds the C pattern plugins into WebAssembly components.
#
#   plugins/c/build.sh                    build every plugins/c/<name>/plugin.c
#   plugins/c/build.sh c-tcp-ambassador   build one
#   FORCE=1 plugins/c/build.sh            rebuild even if the .wasm is up to date
#
# Output: plugins/c/target/<name>.wasm. The steps: wit-bindgen writes the C bindings of the
# world `pattern-plugin` (wit/plugin.wit) into target/bindings, with an object file that
# carries the world; the JSON helper of lib/ is unit-tested natively; clang-19 compiles each
# plugin for wasm32-wasi (a reactor: no main); `wasm-tools component new` makes the component.
# The core module must import no WASI (no stdio): the component then imports only the plugin
# contract.
#
# The tools come from scripts/install-test-tools: Debian's clang-19, lld-19,
# libclang-rt-19-dev-wasm32 and wasi-libc, and wit-bindgen and wasm-tools (pinned there) in
# ${KP_TOOLS_BIN:-${KP_TOOLS_DIR:-<repo>/.tools}/bin} or on PATH.
# Safe to run again: each step is skipped when its result is already there and current.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
wit="$repo/wit"
world=pattern-plugin
target="$here/target"
bindings="$target/bindings"
tools_bin="${KP_TOOLS_BIN:-${KP_TOOLS_DIR:-$repo/.tools}/bin}"

log() { printf 'build.sh: %s\n' "$*" >&2; }

tool() {
    if [[ -x "$tools_bin/$1" ]]; then
        printf '%s\n' "$tools_bin/$1"
    elif command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
    else
        log "$1 not found in $tools_bin or on PATH: run scripts/install-test-tools (it installs $2)"
        exit 1
    fi
}
cc="$(tool clang-19 "Debian's clang-19, lld-19, libclang-rt-19-dev-wasm32 and wasi-libc")"
wit_bindgen="$(tool wit-bindgen "wit-bindgen-cli from crates.io")"
wasm_tools="$(tool wasm-tools "wasm-tools from crates.io")"

# 1. Bindings, regenerated when the WIT or wit-bindgen changes. Only the current package:
# with the frozen versions of wit/deps beside it, wit-bindgen would put the version into
# every C name (kubectl_pattern_plugin_0_2_0_...), and a plugin's source would have to change
# with each release of the contract.
mkdir -p "$target/wit"
stamp="$bindings/.stamp"
want="$("$wit_bindgen" --version) $(sha256sum <"$wit/plugin.wit" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "generating C bindings in ${bindings#"$repo"/}"
    rm -rf "$bindings"
    cp "$wit/plugin.wit" "$target/wit/plugin.wit"
    "$wit_bindgen" c --world "$world" --out-dir "$bindings" "$target/wit" 2>/dev/null
    printf '%s\n' "$want" >"$stamp"
fi

# 2. The JSON helper's unit tests, natively (seconds cheaper than finding a bug in a plugin).
lib_test="$target/test_kp_json"
if [[ ! -x "$lib_test" || -n "$(find "$here/lib" -newer "$lib_test" -name '*.[ch]')" ]]; then
    "$cc" -std=c11 -Wall -Wextra -Werror -g -I "$here/lib" \
        -o "$lib_test" "$here/lib/test_kp_json.c" "$here/lib/kp_json.c"
fi
"$lib_test" >&2

# 3. Components.
if (($#)); then
    names=("$@")
else
    names=()
    for src in "$here"/*/plugin.c; do
        names+=("$(basename "$(dirname "$src")")")
    done
fi

for name in "${names[@]}"; do
    src="$here/$name"
    out="$target/$name.wasm"
    if [[ ! -f "$src/plugin.c" ]]; then
        log "no $src/plugin.c"
        exit 1
    fi
    if [[ -z "${FORCE:-}" && -f "$out" && "$out" -nt "$stamp" ]] &&
        [[ -z "$(find "$src" "$here/lib" -newer "$out" -name '*.[ch]')" ]]; then
        log "$name: up to date (${out#"$repo"/})"
        continue
    fi
    log "$name: clang-19 + wasm-tools -> ${out#"$repo"/}"
    start=$(date +%s)
    core="$target/$name.core.wasm"
    # The bindings' own code trips -Wextra's unused-parameter; the plugin's must be clean.
    "$cc" --target=wasm32-wasi -mexec-model=reactor -std=c11 -O2 -Wall -Wextra -Werror \
        -Wno-unused-parameter -I "$bindings" -I "$here/lib" -o "$core" \
        "$src"/*.c "$here/lib/kp_json.c" "$bindings/${world//-/_}.c" \
        "$bindings/${world//-/_}_component_type.o"
    imports="$("$wasm_tools" print "$core" | grep -o '(import "[^"]*"' | sort -u || true)"
    if grep -q wasi_snapshot_preview1 <<<"$imports"; then
        log "$name: the core module imports WASI (stdio? printf?): the host offers none"
        printf '%s\n' "$imports" >&2
        exit 1
    fi
    # The world is in the module already (the bindings' component-type object).
    "$wasm_tools" component new "$core" -o "$out.tmp"
    "$wasm_tools" validate "$out.tmp"
    rm -f "$core"
    mv "$out.tmp" "$out"
    log "$name: $(stat -c %s "$out") bytes in $(($(date +%s) - start)) s"
done
