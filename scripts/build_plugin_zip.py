#!/usr/bin/env python3
"""Build dist/floodkd-<version>.zip, the QGIS plugin as users install it.

    python3 scripts/build_plugin_zip.py [--out dist] [--max-mb 25]

The zip holds one folder, ``floodkd/``, with only what the plugin runs:
metadata.txt, __init__.py, LICENSE, README.md, docs/*.md and the pictures those
Markdown files show (docs/img/*.png that a shipped .md links to, so the zipped
README has no broken image), plugin/, processing_provider/, core/, training/ and
worker/ (the backend the algorithms call) and resources/ (icon, bundled model,
model card). Tests, CI, scripts, benchmarks,
requirements.txt (it pins the CUDA build of torch), the venv and run folders
stay out. A bundled .pt whose .onnx twin ships stays out too: the .onnx is what
desktop QGIS runs (onnxruntime, no PyTorch), so the .pt would only add weight
(it was 24 MB for the previous default); it stays in the repository for the
command line. Files are those git tracks plus untracked ones git does not ignore
(so a freshly exported model counts, caches and .venv do not).

Fails (exit 1) when the zip is over the plugins.qgis.org limit (25 MB), when
metadata.txt lacks a field QGIS needs, or when a model the code loads by
default is missing. Entries are sorted with a fixed date, so the same tree
gives the same bytes. Needs only the Python standard library.
"""
from __future__ import annotations

import argparse
import configparser
import os
import re
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN = "floodkd"
TOP_FILES = ["metadata.txt", "__init__.py", "LICENSE", "README.md"]
FOLDERS = ["plugin", "processing_provider", "core", "training", "worker", "batch", "resources", "docs"]
SKIP_SUFFIXES = (".pyc", ".pyo", ".part", ".orig", ".rej", "~")
DOCS_SUFFIXES = (".md",)  # docs/ gives its text, and only the pictures it shows (linked_files)
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")  # Markdown link or image target
REQUIRED_METADATA = ["name", "qgisMinimumVersion", "description", "about", "version", "author"]
UPLOAD_METADATA = ["email", "repository"]  # plugins.qgis.org refuses an upload without them
LIMIT_BYTES = 25 * 1000 * 1000  # plugins.qgis.org's upload limit, read as decimal MB (the stricter)
ZIP_DATE = (2024, 1, 1, 0, 0, 0)


class BuildError(Exception):
    pass


def read_metadata(root: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive (qgisMinimumVersion)
    with open(os.path.join(root, "metadata.txt"), encoding="utf-8") as fh:
        parser.read_file(fh)
    general = parser["general"]
    missing = [k for k in REQUIRED_METADATA if not general.get(k, "").strip()]
    if missing:
        raise BuildError(f"metadata.txt lacks {', '.join(missing)}")
    return general


def candidate_files(root: str) -> list[str]:
    """Relative paths of the tree's files: tracked plus untracked-not-ignored (git), else all."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             check=True, capture_output=True).stdout.decode()
        paths = [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        paths = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs]
    return sorted({p for p in paths if os.path.isfile(os.path.join(root, p))})


def plugin_files(root: str) -> list[str]:
    """The relative paths that go into the zip."""
    chosen = []
    for path in candidate_files(root):
        parts = path.split("/")
        if path in TOP_FILES:
            chosen.append(path)
        elif parts[0] in FOLDERS and len(parts) > 1:
            if "__pycache__" in parts or any(p.startswith(".") for p in parts) or path.endswith(SKIP_SUFFIXES):
                continue
            if parts[0] == "docs" and not (len(parts) == 2 and path.endswith(DOCS_SUFFIXES)):
                continue
            chosen.append(path)
    missing = [f for f in TOP_FILES if f not in chosen]
    if missing:
        raise BuildError(f"missing top-level file(s): {', '.join(missing)}")
    available = set(candidate_files(root))
    pictures = {f for f in linked_files(root, chosen) if f in available and f.split("/")[0] in FOLDERS}
    return sorted(set(chosen) | pictures)


def linked_files(root: str, files: list[str]) -> set[str]:
    """Relative paths of the local files the shipped Markdown files link to (README pictures)."""
    linked = set()
    for md in (f for f in files if f.endswith(".md")):
        with open(os.path.join(root, md), encoding="utf-8") as fh:
            targets = LINK.findall(fh.read())
        for target in targets:
            if "://" in target or target.startswith(("mailto:", "/")):
                continue
            linked.add(os.path.normpath(os.path.join(os.path.dirname(md), target)).replace(os.sep, "/"))
    return linked


def drop_shadowed_checkpoints(files: list[str]) -> list[str]:
    """Leave out resources/models/X.pt when resources/models/X.onnx ships."""
    onnx = {f[:-len(".onnx")] for f in files if f.startswith("resources/models/") and f.endswith(".onnx")}
    return [f for f in files if not (f.startswith("resources/models/") and f.endswith(".pt") and f[:-3] in onnx)]


def check_default_models(files: list[str]) -> None:
    """segment's empty MODEL means a bundled model: at least one must ship."""
    models = [f for f in files if f.startswith("resources/models/") and f.endswith((".pt", ".onnx"))]
    if not models:
        raise BuildError("no bundled model under resources/models/: segment's default would be missing")


def build(root: str, out_dir: str, limit: int) -> tuple[str, list[str]]:
    meta = read_metadata(root)
    files = drop_shadowed_checkpoints(plugin_files(root))
    check_default_models(files)
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, f"{PLUGIN}-{meta['version'].strip()}.zip")
    tmp = target + ".part"
    sizes = {}
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for rel in files:
            info = zipfile.ZipInfo(f"{PLUGIN}/{rel}", ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(os.path.join(root, rel), "rb") as fh:
                data = fh.read()
            sizes[rel] = len(data)
            zf.writestr(info, data, compresslevel=9)
    size = os.path.getsize(tmp)
    if size > limit:
        os.remove(tmp)
        biggest = sorted(sizes, key=lambda f: -sizes[f])[:3]
        listing = ", ".join(f"{f} {sizes[f] / 1e6:.1f} MB" for f in biggest)
        raise BuildError(f"the zip would be {size / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit "
                         f"(plugins.qgis.org allows 25 MB; largest files: {listing}); nothing was written")
    os.replace(tmp, target)
    warnings = [f"metadata.txt has no {k}= (plugins.qgis.org needs it before an upload; see README)"
                for k in UPLOAD_METADATA if not meta.get(k, "").strip()]
    return target, warnings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "dist"), help="output folder (default dist/)")
    parser.add_argument("--max-mb", type=float, default=LIMIT_BYTES / 1e6,
                        help="size limit in MB (1 MB = 10^6 bytes; default 25, plugins.qgis.org's)")
    parser.add_argument("--root", default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        target, warnings = build(args.root, args.out, int(args.max_mb * 1e6))
    except BuildError as exc:
        print(f"build_plugin_zip: error: {exc}", file=sys.stderr)
        return 1
    for w in warnings:
        print(f"build_plugin_zip: warning: {w}", file=sys.stderr)
    with zipfile.ZipFile(target) as zf:
        n = len(zf.namelist())
    print(f"wrote {target}: {n} files, {os.path.getsize(target) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
