#!/usr/bin/env python3
"""Writes the link stubs of the macOS frameworks kubectl-pattern links, so zig can link the
darwin binaries on Linux without Apple's SDK:

    scripts/macos_stub_sdk.py OUT_DIR

OUT_DIR becomes an SDKROOT holding System/Library/Frameworks/<F>.framework/<F>.tbd for each
framework a dependency links (CoreFoundation, Security). A .tbd is what Apple's own SDK ships
for every framework: a text stub naming the framework's install path and the symbols it
exports. The linker needs nothing else: it records "load <install path>" and binds each symbol
to that framework (two-level namespace), exactly as with the SDK's stubs. The symbol lists are
the foreign declarations of the crates that link each framework (their `extern "C"` blocks), as
locked in Cargo.lock, read from cargo's registry sources (`cargo metadata`); a stub may list
more symbols than the binary uses, never fewer (zig then fails with "undefined symbol").
zig itself carries libSystem's stubs.
"""

import json
import os
import re
import subprocess
import sys

# crate -> (framework, install name)
FRAMEWORKS = {
    "core-foundation-sys": (
        "CoreFoundation",
        "/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation",
    ),
    "security-framework-sys": (
        "Security",
        "/System/Library/Frameworks/Security.framework/Versions/A/Security",
    ),
}

EXTERN_OPEN = re.compile(r'^\s*(?:unsafe\s+)?extern\s+"C"\s*\{')
ITEM = re.compile(r"^\s*pub\s+(?:unsafe\s+)?(?:safe\s+)?(?:fn|static(?:\s+mut)?)\s+(\w+)")


def exported(src_dir):
    """The names declared in the `extern "C"` blocks of the .rs files below src_dir."""
    names = set()
    for root, _, files in os.walk(src_dir):
        for f in sorted(files):
            if not f.endswith(".rs"):
                continue
            depth = 0
            inside = False
            with open(os.path.join(root, f), encoding="utf-8") as fh:
                for line in fh:
                    code = line.split("//", 1)[0]
                    if not inside and EXTERN_OPEN.match(code):
                        inside, depth = True, 0
                    if inside:
                        m = ITEM.match(code)
                        if m:
                            names.add(m.group(1))
                        depth += code.count("{") - code.count("}")
                        if depth <= 0:
                            inside = False
    return names


def tbd(install_name, symbols):
    targets = "[ x86_64-macos, arm64-macos ]"
    listed = ", ".join("_" + s for s in sorted(symbols))
    return (
        "--- !tapi-tbd\n"
        "tbd-version:     4\n"
        f"targets:         {targets}\n"
        f"install-name:    '{install_name}'\n"
        "exports:\n"
        f"  - targets:         {targets}\n"
        f"    symbols:         [ {listed} ]\n"
        "...\n"
    )


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: macos_stub_sdk.py OUT_DIR")
    out = sys.argv[1]
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked",
             "--filter-platform", "aarch64-apple-darwin"],
            check=True, capture_output=True, text=True,
        ).stdout
    )
    found = {}
    for pkg in meta["packages"]:
        if pkg["name"] in FRAMEWORKS:
            src = os.path.join(os.path.dirname(pkg["manifest_path"]), "src")
            framework, install = FRAMEWORKS[pkg["name"]]
            found.setdefault(framework, (install, set()))[1].update(exported(src))
    missing = {f for f, _ in FRAMEWORKS.values()} - set(found)
    if missing:
        sys.exit(f"macos_stub_sdk: no crate in Cargo.lock declares {sorted(missing)}")
    for framework, (install, symbols) in sorted(found.items()):
        if not symbols:
            sys.exit(f"macos_stub_sdk: found no declarations for {framework}")
        d = os.path.join(out, "System/Library/Frameworks", f"{framework}.framework")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"{framework}.tbd"), "w", encoding="utf-8") as fh:
            fh.write(tbd(install, symbols))
        print(f"macos_stub_sdk: {framework}: {len(symbols)} symbols", file=sys.stderr)


if __name__ == "__main__":
    main()
