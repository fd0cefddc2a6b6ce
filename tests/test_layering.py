"""core/ and training/ never import qgis or PyQt, nor the QGIS-side packages;
and nothing the plugin loads imports torch at module level."""
import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "core": ("qgis", "PyQt5", "PyQt6", "processing", "floodkd.plugin", "floodkd.processing_provider",
             "floodkd.training", ".plugin", ".processing_provider", "..plugin", "..processing_provider",
             "..training"),
    "training": ("qgis", "PyQt5", "PyQt6", "processing", "floodkd.plugin", "floodkd.processing_provider",
                 "..plugin", "..processing_provider"),
}
HEAVY = ("torch", "segmentation_models_pytorch", "timm", "onnxruntime")


def imports(path, top_level_only=False):
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or "")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_imports(package):
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"{package}/ has no Python files"
    bad = [(f.relative_to(REPO).as_posix(), name) for f in files for name in imports(f)
           if any(name == p or name.startswith(p + ".") for p in FORBIDDEN[package])]
    assert bad == []


def test_heavy_packages_are_imported_lazily():
    files = [REPO / "__init__.py", *sorted(REPO.glob("*/**/*.py"))]
    files = [f for f in files if "tests" not in f.parts and ".venv" not in f.parts and "benchmarks" not in f.parts]
    bad = [(f.relative_to(REPO).as_posix(), n) for f in files for n in imports(f, top_level_only=True)
           if n.split(".")[0] in HEAVY]
    assert bad == []


def test_the_checker_catches_a_forbidden_import(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from qgis.core import QgsApplication\n")
    assert "qgis.core" in list(imports(sample))
