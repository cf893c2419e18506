"""Packs release archives and writes the krew manifest (called by scripts/release).

    release_pack.py archive OS ARCH BINARY OUT_DIR TAG
    release_pack.py manifest OUT_DIR TAG [--allow-missing]

`archive` writes OUT_DIR/kubectl-pattern_TAG_OS_ARCH.tar.gz (.zip for windows) holding the
binary, LICENSE, README.md and integrations/ (cli/integrations), reproducibly: entries sorted,
directories listed before their contents, fixed mtimes (1980-01-01), owner 0/0 without names,
normalised modes, no gzip file name or time. The same inputs give the same bytes.

`manifest` fills krew-manifest.yaml (the template) into OUT_DIR/krew-manifest.yaml: every @TAG@
becomes TAG, every platform's @SHA256@ the sha256 of its archive in OUT_DIR, and
OUT_DIR/SHA256SUMS lists the archives. A platform without an archive is an error, or with
--allow-missing is left out of the manifest (and named on stderr): a placeholder is never
written. Run from the repository root; standard library only.
"""

import gzip
import hashlib
import io
import os
import re
import sys
import tarfile
import zipfile

MTIME = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can hold
INTEGRATIONS = "cli/integrations"
TEMPLATE = "krew-manifest.yaml"
PLATFORMS = [(o, a) for o in ("linux", "darwin", "windows") for a in ("amd64", "arm64")]


def die(msg):
    sys.exit(f"release: error: {msg}")


def archive_name(tag, os_, arch):
    ext = "zip" if os_ == "windows" else "tar.gz"
    return f"kubectl-pattern_{tag}_{os_}_{arch}.{ext}"


def members(binary, exe):
    """(archive path, source file or None for a directory, mode), parents first, sorted."""
    out = [(exe, binary, 0o755), ("LICENSE", "LICENSE", 0o644), ("README.md", "README.md", 0o644)]
    entries = [("integrations", None, 0o755)]
    for d, dirs, files in os.walk(INTEGRATIONS):
        dirs.sort()
        rel = os.path.relpath(d, INTEGRATIONS)
        for name in dirs:
            entries.append((_join("integrations", rel, name), None, 0o755))
        for name in files:
            src = os.path.join(d, name)
            mode = 0o755 if os.access(src, os.X_OK) else 0o644
            entries.append((_join("integrations", rel, name), src, mode))
    return out + sorted(entries, key=lambda e: e[0])


def _join(*parts):
    return "/".join(p for p in parts if p not in (".", ""))


def write_tar_gz(entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, src, mode in entries:
            info = tarfile.TarInfo(name + ("/" if src is None else ""))
            info.mode, info.mtime = mode, MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if src is None:
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            else:
                info.size = os.path.getsize(src)
                with open(src, "rb") as f:
                    t.addfile(info, f)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=MTIME, compresslevel=9) as g:
        g.write(raw.getvalue())
    return buf.getvalue()


def write_zip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, src, mode in entries:
            is_dir = src is None
            info = zipfile.ZipInfo(name + ("/" if is_dir else ""), date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3  # unix, so the modes below are kept
            info.external_attr = ((0o040000 if is_dir else 0o100000) | mode) << 16
            if is_dir:
                info.external_attr |= 0x10  # MS-DOS directory flag
                z.writestr(info, b"")
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(src, "rb") as f:
                    z.writestr(info, f.read(), compresslevel=9)
    return buf.getvalue()


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def cmd_archive(os_, arch, binary, out, tag):
    if (os_, arch) not in PLATFORMS:
        die(f"unknown platform {os_}/{arch}")
    if not os.path.isfile(binary):
        die(f"binary {binary} for {os_}/{arch} does not exist")
    helm = os.path.join(INTEGRATIONS, "helm-plugin", "plugin.yaml")
    with open(helm, encoding="utf-8") as f:
        if f"\nversion: {tag[1:]}\n" not in f.read():
            die(f"{helm} must say version: {tag[1:]} (the version in Cargo.toml)")
    exe = "kubectl-pattern.exe" if os_ == "windows" else "kubectl-pattern"
    entries = members(binary, exe)
    data = write_zip(entries) if os_ == "windows" else write_tar_gz(entries)
    path = os.path.join(out, archive_name(tag, os_, arch))
    write_atomic(path, data)
    print(f"{path}  {len(data)} bytes  sha256 {hashlib.sha256(data).hexdigest()}")


def platform_blocks(lines):
    """Index ranges [start, end) of the items under spec.platforms, with their os/arch."""
    try:
        head = lines.index("  platforms:")
    except ValueError:
        die(f"{TEMPLATE} has no '  platforms:' line")
    starts = [i for i in range(head + 1, len(lines)) if lines[i].startswith("  - ")]
    end = next((i for i in range(head + 1, len(lines)) if lines[i] and not lines[i].startswith("  ")), len(lines))
    blocks = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else end
        text = "\n".join(lines[s:e])
        o = re.search(r"^\s+os: (\S+)$", text, re.M)
        a = re.search(r"^\s+arch: (\S+)$", text, re.M)
        if not (o and a):
            die(f"{TEMPLATE}: a platform at line {s + 1} has no os/arch selector")
        blocks.append((s, e, o.group(1), a.group(1)))
    return blocks


def cmd_manifest(out, tag, allow_missing):
    with open(TEMPLATE, encoding="utf-8") as f:
        lines = f.read().replace("@TAG@", tag).split("\n")
    keep, missing, sums = [], [], []
    blocks = platform_blocks(lines)
    for s, e, os_, arch in blocks:
        name = archive_name(tag, os_, arch)
        path = os.path.join(out, name)
        if not os.path.isfile(path):
            missing.append(f"{os_}/{arch}")
            continue
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        block = "\n".join(lines[s:e])
        if block.count('sha256: "@SHA256@"') != 1:
            die(f"{TEMPLATE}: the {os_}/{arch} platform must have one sha256: \"@SHA256@\"")
        keep.append(block.replace('"@SHA256@"', f'"{digest}"'))
        sums.append(f"{digest}  {name}")
    if missing and not allow_missing:
        die(f"no archive in {out}/ for {', '.join(missing)} (build them, or pass --allow-missing "
            "to leave them out of the manifest)")
    if not keep:
        die(f"no archive in {out}/ for any platform")
    first = blocks[0][0]
    text = "\n".join(lines[:first] + keep + lines[blocks[-1][1]:])
    text = re.sub(r"\A(#[^\n]*\n)+", "", text)  # the template's note is not for the output
    if "@" + "SHA256@" in text or "@TAG@" in text:
        die("a placeholder is left in the manifest")
    write_atomic(os.path.join(out, "krew-manifest.yaml"), text.encode())
    write_atomic(os.path.join(out, "SHA256SUMS"), ("\n".join(sums) + "\n").encode())
    print(f"{out}/krew-manifest.yaml: {len(keep)} platforms")
    if missing:
        print(f"release: note: left out of the manifest (no archive): {', '.join(missing)}", file=sys.stderr)


def main(argv):
    if len(argv) == 7 and argv[1] == "archive":
        cmd_archive(*argv[2:7])
    elif len(argv) in (4, 5) and argv[1] == "manifest":
        if len(argv) == 5 and argv[4] != "--allow-missing":
            die(f"unknown argument {argv[4]}")
        cmd_manifest(argv[2], argv[3], len(argv) == 5)
    else:
        die("usage: release_pack.py archive OS ARCH BINARY OUT TAG | manifest OUT TAG [--allow-missing]")


if __name__ == "__main__":
    main(sys.argv)
