#!/usr/bin/env bash
# Builds plugin.c into {{name}}.wasm, a WebAssembly component.
#
#   ./build.sh            build
#   FORCE=1 ./build.sh    rebuild even if {{name}}.wasm is newer than its sources
#
# Needs clang with the wasm32-wasi target and its libc (Debian/Ubuntu: clang-19 lld-19
# libclang-rt-19-dev-wasm32 wasi-libc; elsewhere the WASI SDK: set CC and WASI_SYSROOT),
# wit-bindgen (`cargo install wit-bindgen-cli --version 0.63.0`) and wasm-tools
# (`cargo install wasm-tools --version 1.263.0`). Override them with CC, WIT_BINDGEN, WASM_TOOLS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

cc="${CC:-$(command -v clang-19 || command -v clang || true)}"
wit_bindgen="${WIT_BINDGEN:-$(command -v wit-bindgen || true)}"
wasm_tools="${WASM_TOOLS:-$(command -v wasm-tools || true)}"
for tool in cc wit_bindgen wasm_tools; do
    if [[ -z "${!tool}" ]]; then
        echo "build.sh: ${tool//_/-} not found: see the top of build.sh (or README.md) for how to install it" >&2
        exit 1
    fi
done
sysroot=()
if [[ -n "${WASI_SYSROOT:-}" ]]; then sysroot=(--sysroot "$WASI_SYSROOT"); fi

if [[ -z "${FORCE:-}" && -f {{name}}.wasm && -z "$(find . wit -maxdepth 1 -newer {{name}}.wasm \( -name '*.[ch]' -o -name '*.wit' \))" ]]; then
    echo "build.sh: {{name}}.wasm is up to date" >&2
    exit 0
fi
rm -rf bindings
"$wit_bindgen" c --world pattern-plugin --out-dir bindings wit >/dev/null
# -Wno-unused-parameter: for the generated bindings.
"$cc" --target=wasm32-wasi "${sysroot[@]}" -mexec-model=reactor -std=c11 -O2 -Wall -Wextra -Werror \
    -Wno-unused-parameter -I bindings -I . -o {{name}}.core.wasm plugin.c kp_json.c bindings/pattern_plugin.c \
    bindings/pattern_plugin_component_type.o
if "$wasm_tools" print {{name}}.core.wasm | grep -q '(import "wasi_snapshot_preview1"'; then
    echo "build.sh: the module imports WASI (printf? stdio?), which the host does not offer" >&2
    exit 1
fi
# The module carries the world (bindings/pattern_plugin_component_type.o).
"$wasm_tools" component new {{name}}.core.wasm -o {{name}}.wasm
rm -f {{name}}.core.wasm
echo "build.sh: built $(pwd)/{{name}}.wasm" >&2
