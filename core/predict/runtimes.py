"""Which model runtimes are installed, and whether PyTorch may run in this process.

Desktop QGIS must never import PyTorch: importing segmentation-models-pytorch
(-> timm -> torchvision.ops -> torch._dynamo -> triton) loads triton's LLVM,
which clashes with the Mesa LLVM that QGIS has already loaded, and QGIS dies
with SIGSEGV (DESIGN.md convention 9). The plugin calls
``keep_torch_out_of_process`` when it loads in the desktop GUI; work that needs
torch then runs in a worker process (worker/server.py), while ONNX Runtime,
Otsu and the fixed threshold stay in process (proven safe there by
tests/gui/). Installed packages are found without importing them.
"""
from __future__ import annotations

import importlib.util
import os

# "0": never import torch in this process (run it in the worker); "1": allow.
# Overrides what the plugin decided; the worker is always started with "1".
TORCH_IN_PROCESS_ENV = "FLOODKD_TORCH_IN_PROCESS"
TORCH_PACKAGES = ("torch", "segmentation_models_pytorch")

_torch_kept_out = None  # the reason, once the plugin said so


def keep_torch_out_of_process(reason: str) -> None:
    """From now on, torch work in this process goes to the worker process instead."""
    global _torch_kept_out
    _torch_kept_out = reason


def allow_torch_in_process() -> None:
    """Undo :func:`keep_torch_out_of_process` (the plugin's unload; tests)."""
    global _torch_kept_out
    _torch_kept_out = None


def torch_in_process() -> bool:
    """May this process import torch? (False inside desktop QGIS.)"""
    value = os.environ.get(TORCH_IN_PROCESS_ENV, "").strip()
    if value in ("0", "1"):
        return value == "1"
    return _torch_kept_out is None


def installed(module: str) -> bool:
    """Whether ``module`` can be found on sys.path (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a half-imported module
        return False


def onnxruntime_installed() -> bool:
    return installed("onnxruntime")


def torch_installed() -> bool:
    """torch and segmentation-models-pytorch (what .pt models and training need)."""
    return all(installed(m) for m in TORCH_PACKAGES)
