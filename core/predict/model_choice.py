"""Which model an empty MODEL means here, and what ``auto`` does when none can run.

The bundled student ships as resources/models/floodkd_s1_student.onnx (needs
only onnxruntime) and, in the repository, as the .pt checkpoint it was
exported from (needs torch and segmentation-models-pytorch; regenerate the
.onnx and .pt together with scripts/bundle_default_model.py). The .onnx is preferred whenever
onnxruntime is installed; with neither runtime installed, ``auto`` falls back
to the fixed VH threshold and says why (a warning in the run's log).
"""
from __future__ import annotations

import os

from ..deps import install_advice
from .common import DEFAULT_MODEL
from .runtimes import onnxruntime_installed, torch_installed
from .threshold_predictor import ThresholdPredictor

DEFAULT_ONNX = os.path.splitext(DEFAULT_MODEL)[0] + ".onnx"


def bundled_model() -> str | None:
    """The bundled model this Python can run (.onnx first), or None."""
    if os.path.isfile(DEFAULT_ONNX) and onnxruntime_installed():
        return DEFAULT_ONNX
    if os.path.isfile(DEFAULT_MODEL) and torch_installed():
        return DEFAULT_MODEL
    return None


def why_no_bundled_model() -> str:
    """Why :func:`bundled_model` is None, and what would fix it."""
    shipped = [p for p in (DEFAULT_ONNX, DEFAULT_MODEL) if os.path.isfile(p)]
    if not shipped:
        return "no bundled model ships with this copy of floodkd"
    if any(p.endswith(".onnx") for p in shipped):
        return "the bundled model needs onnxruntime, which is not installed: " + install_advice("onnx")
    return ("the bundled model ships only as a PyTorch checkpoint, and torch with segmentation-models-pytorch "
            "is not installed: " + install_advice("torch"))


def model_needs_torch(method: str, model: str | None) -> bool:
    """Whether segmenting with ``method``/``model`` imports torch (a .pt checkpoint)."""
    if (method or "auto").lower() not in ("auto", "model"):
        return False
    path = model or bundled_model()
    return bool(path) and not path.lower().endswith(".onnx")


class FallbackThreshold(ThresholdPredictor):
    """The fixed VH threshold, used by ``auto`` because no model can run here; warns why."""

    def __init__(self, reason: str):
        super().__init__()
        self.reason = reason

    def prepare(self, source, progress):
        progress.warning(f"METHOD auto: {self.reason}. Using the fixed VH threshold instead (no model).")
        super().prepare(source, progress)

    def describe(self):
        return {**super().describe(), "fallback": self.reason}
