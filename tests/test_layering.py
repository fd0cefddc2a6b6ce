"""The layering of docs/ARCHITECTURE.md, read from the code's own imports (AST).

- core/ imports no qgis or PyQt, nothing from training/, a front end or a backend;
- training/ imports no qgis or PyQt, no front end and no backend;
- front ends (cli/, processing_provider/, plugin/) never import one another
  (plugin/ may import processing_provider/: both are the QGIS front end);
- backends (worker/, batch/) import no front end and no QGIS;
- no command-line module lives in core/ or training/;
- no folder holds more than 15 modules directly;
- nothing the plugin loads imports torch at module level.
"""
import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QT = ("qgis", "PyQt5", "PyQt6", "processing")
FRONT_ENDS = ("floodkd.cli", "floodkd.processing_provider", "floodkd.plugin")
BACKENDS = ("floodkd.worker", "floodkd.batch")
FORBIDDEN = {
    "core": QT + ("floodkd.training",) + FRONT_ENDS + BACKENDS,
    "training": QT + FRONT_ENDS + BACKENDS,
    "cli": QT + ("floodkd.processing_provider", "floodkd.plugin", "floodkd.worker"),
    "processing_provider": ("floodkd.cli", "floodkd.plugin"),
    "plugin": ("floodkd.cli", "floodkd.worker", "floodkd.batch"),
    "worker": QT + FRONT_ENDS + ("floodkd.batch",),
    "batch": QT + FRONT_ENDS + ("floodkd.worker",),
}
HEAVY = ("torch", "segmentation_models_pytorch", "timm", "onnxruntime")
CLI_MARKERS = ("argparse", "click", "typer")
MAX_MODULES = 15


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["floodkd", *parts])


def imports(path, top_level_only=False, as_module=None):
    """Absolute names of what ``path`` imports (relative imports resolved from its place,
    or from ``as_module``)."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else ast.walk(tree)
    name = as_module or (module_name(path) if REPO in path.parents else "x")
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            yield base
            for alias in node.names:  # ``from floodkd import cli`` imports the module floodkd.cli
                yield f"{base}.{alias.name}"


def python_files(package):
    return sorted(f for f in (REPO / package).rglob("*.py") if "__pycache__" not in f.parts)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_imports(package):
    files = python_files(package)
    if package == "batch" and not files:
        pytest.skip("no batch/ package yet")
    assert files, f"{package}/ has no Python files"
    bad = sorted({(f.relative_to(REPO).as_posix(), name) for f in files for name in imports(f)
                  if any(name == p or name.startswith(p + ".") for p in FORBIDDEN[package])})
    assert bad == []


@pytest.mark.parametrize("package", ["core", "training"])
def test_no_command_line_module_below_the_front_ends(package):
    bad = [(f.relative_to(REPO).as_posix(), name) for f in python_files(package) for name in imports(f)
           if name.split(".")[0] in CLI_MARKERS]
    mains = [f.relative_to(REPO).as_posix() for f in python_files(package)
             if f.name == "__main__.py" or "__name__ == \"__main__\"" in f.read_text()]
    assert (bad, mains) == ([], [])


def test_no_folder_holds_more_than_15_modules():
    folders = {f.parent for top in FORBIDDEN for f in python_files(top)}
    crowded = {d.relative_to(REPO).as_posix(): n for d in folders
               if (n := len([f for f in d.glob("*.py") if f.name != "__init__.py"])) > MAX_MODULES}
    assert crowded == {}


def test_heavy_packages_are_imported_lazily():
    files = [REPO / "__init__.py", *sorted(REPO.glob("*/**/*.py"))]
    skip = ("tests", ".venv", "benchmarks", "dist")
    files = [f for f in files if not any(s in f.relative_to(REPO).parts for s in skip)]
    bad = [(f.relative_to(REPO).as_posix(), n) for f in files for n in imports(f, top_level_only=True)
           if n.split(".")[0] in HEAVY]
    assert bad == []


def test_the_checker_resolves_and_catches_forbidden_imports(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from qgis.core import QgsApplication\n"
                      "from ...cli import main\nfrom .. import training\n")
    names = set(imports(sample, as_module="floodkd.core.io.raster_io"))
    assert {"qgis.core", "floodkd.cli", "floodkd.core.training"} <= names
    assert any(n.startswith(p) for n in names for p in FORBIDDEN["core"])
