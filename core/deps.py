"""Optional Python packages: what is missing, and how to install it into a plugin-owned folder.

numpy and rasterio come with QGIS. The bundled model needs onnxruntime; .pt
checkpoints, training and ONNX export need torch with segmentation-models-pytorch
(group "torch"). A desktop user installs them from the plugin's dialog into
``<QGIS profile>/python/floodkd-deps/py3X`` with that Python's own pip
(``pip install --target``: never into the system Python, which Debian refuses as
an externally-managed environment). The plugin appends the folder to sys.path at
load, so QGIS's own numpy, packaging, protobuf... always win in QGIS's process;
the worker process (torch) puts it first (worker/client.py). No QGIS import here
(tests/test_deps.py).
"""
from __future__ import annotations

import os
import sys

from .predict.runtimes import installed

# Pins: the same versions as requirements.txt (tests/test_deps.py keeps them equal).
ONNX_PINS = ("onnxruntime==1.31.1",)
TORCH_PINS = ("torch==2.14.1", "torchvision==0.29.1", "segmentation-models-pytorch==0.6.0", "timm==1.0.31")
EXPORT_PINS = ("onnx==1.23.2",)
GROUPS = {
    "onnx": {"modules": ("onnxruntime",), "pins": ONNX_PINS,
             "for": "the bundled model and exported .onnx models"},
    # The torch group is resolved by pip (CUDA libraries, sympy...); numpy is pinned to QGIS's.
    "torch": {"modules": ("torch", "torchvision", "segmentation_models_pytorch", "timm"),
              "pins": TORCH_PINS + EXPORT_PINS,
              "for": ".pt checkpoints, training, evaluation and export to ONNX"},
}
# PyTorch's own index of CPU-only builds (about 0.2 GB against several GB for the CUDA builds).
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYPI = "https://pypi.org/simple"
VARIANTS = ("cpu", "cuda")
# onnxruntime's own requirements (its wheel's Requires-Dist) as (pip requirement, module): the onnx
# group is installed with --no-deps, only onnxruntime and those of these this Python lacks.
ONNX_REQUIRES = (("numpy>=1.21.6", "numpy"), ("flatbuffers", "flatbuffers"), ("packaging", "packaging"),
                 ("protobuf>=4.25.8", "google.protobuf"))
DEPS_FOLDER = "floodkd-deps"


def missing_groups() -> list[str]:
    """Names of the groups (``onnx``, ``torch``) with a module that cannot be found."""
    return [name for name, g in GROUPS.items() if not all(installed(m) for m in g["modules"])]


def deps_dir(profile_dir: str) -> str:
    """The plugin-owned package folder inside a QGIS profile, per Python version (wheels are)."""
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    return os.path.join(profile_dir, "python", DEPS_FOLDER, tag)


def add_to_path(folder: str) -> bool:
    """Append ``folder`` to sys.path (QGIS's own packages keep precedence); True if added."""
    if not os.path.isdir(folder) or folder in sys.path:
        return False
    sys.path.append(folder)
    import importlib

    importlib.invalidate_caches()
    return True


def python_executable() -> str:
    """A Python interpreter for pip and the worker: this one, also when embedded in QGIS.

    Inside QGIS ``sys.executable`` may be the QGIS program itself; then the
    interpreter of the same prefix and version is used. FLOODKD_PYTHON overrides.
    """
    override = os.environ.get("FLOODKD_PYTHON")
    if override:
        return override
    if os.path.basename(sys.executable).lower().startswith("python") and os.path.isfile(sys.executable):
        return sys.executable
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if os.name == "nt":
        candidates = [os.path.join(sys.exec_prefix, "python.exe"), os.path.join(sys.exec_prefix, "python3.exe")]
    else:
        candidates = [os.path.join(sys.exec_prefix, "bin", f"python{version}"),
                      os.path.join(sys.exec_prefix, "bin", "python3"), f"/usr/bin/python{version}"]
    for path in candidates:
        if os.path.isfile(path):
            return path
    return candidates[0]


def is_deps_folder(path: str) -> bool:
    """Whether ``path`` is a floodkd-deps folder (of any profile or Python version)."""
    return os.path.basename(os.path.dirname(os.path.normpath(path))) == DEPS_FOLDER


def pip_command(groups, target: str, variant: str = "cpu", python: str | None = None,
                have=installed) -> list[str]:
    """The pip command line that installs ``groups`` into ``target``.

    onnx alone: ``--no-deps`` with an explicit list, onnxruntime and those of
    its requirements (ONNX_REQUIRES) that ``have`` (module -> bool) says this
    Python lacks, so nothing QGIS has is installed again. With torch, pip
    resolves the rest (CUDA libraries, sympy...) and numpy is pinned to the
    version already loaded (never a numpy QGIS's GDAL was not built for).
    ``variant`` matters for the torch group: ``cpu`` takes PyTorch's CPU-only
    builds from its own index, ``cuda`` the CUDA builds of PyPI (Linux; on
    Windows PyPI's torch is CPU-only, so use the CUDA index PyTorch's site names).
    """
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise ValueError(f"unknown dependency group(s) {unknown or groups}; use {', '.join(GROUPS)}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant '{variant}'; use {' or '.join(VARIANTS)}")
    pins = [p for g in GROUPS for p in GROUPS[g]["pins"] if g in groups]
    cmd = [python or python_executable(), "-m", "pip", "install", "--target", target, "--upgrade",
           "--no-warn-script-location", "--disable-pip-version-check", "--progress-bar", "off"]
    if "torch" not in groups:
        return cmd + ["--no-deps"] + pins + [req for req, module in ONNX_REQUIRES if not have(module)]
    if variant == "cpu":
        cmd += ["--index-url", TORCH_CPU_INDEX, "--extra-index-url", PYPI]
    return cmd + pins + [f"numpy=={numpy_version()}"]


def numpy_version() -> str:
    import numpy

    return numpy.__version__


def install_advice(group: str) -> str:
    """One sentence on how to get ``group`` installed, in QGIS and outside it."""
    pins = " ".join(GROUPS[group]["pins"])
    return (f"in QGIS use Raster > floodkd > Install Python dependencies… (it installs {pins} into a folder "
            f"of your QGIS profile); outside QGIS install them into a virtual environment (`pip install {pins}`, "
            "or scripts/setup.sh in the repository)")
