#!/usr/bin/env bash
# Builds app.py into {{name}}.wasm, a WebAssembly component, with componentize-py.
#
#   ./build.sh            unit tests (test_app.py), then the component
#   FORCE=1 ./build.sh    rebuild even if {{name}}.wasm is newer than its sources
#
# Needs Python >= 3.11. componentize-py (pinned below) goes into .venv/ on first use
# (override with COMPONENTIZE_PY_VENV).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

COMPONENTIZE_PY_VERSION=0.25.1
venv="${COMPONENTIZE_PY_VENV:-.venv}"
cpy="$venv/bin/componentize-py"

installed=""
if [[ -x "$cpy" ]]; then installed="$("$cpy" --version 2>/dev/null | awk '{print $2}')" || installed=""; fi
if [[ "$installed" != "$COMPONENTIZE_PY_VERSION" ]]; then
    echo "build.sh: installing componentize-py $COMPONENTIZE_PY_VERSION into $venv" >&2
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION"
fi
if [[ ! -d bindings || wit/plugin.wit -nt bindings || "$cpy" -nt bindings ]]; then
    rm -rf bindings
    "$cpy" -q -d wit -w pattern-plugin bindings bindings
fi
PYTHONPATH=".:bindings" python3 -B -m unittest -q test_app >&2
if [[ -z "${FORCE:-}" && -f {{name}}.wasm && {{name}}.wasm -nt app.py && {{name}}.wasm -nt wit/plugin.wit ]]; then
    echo "build.sh: {{name}}.wasm is up to date" >&2
    exit 0
fi
"$cpy" -q -d wit -w pattern-plugin componentize app -p . -o {{name}}.wasm.tmp
mv {{name}}.wasm.tmp {{name}}.wasm
echo "build.sh: built $(pwd)/{{name}}.wasm" >&2
