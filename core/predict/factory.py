"""The one factory over the ways of predicting water (one module each).

* :mod:`.torch_predictor`: a floodkd checkpoint (.pt) with PyTorch;
* :mod:`.onnx_predictor`: an exported model (.onnx) with ONNX Runtime;
* :mod:`.otsu_predictor`: the paper's per-scene Otsu threshold on VH;
* :mod:`.threshold_predictor`: a fixed VH threshold in dB.

Names are re-exported here for callers of the former single module.
"""
from __future__ import annotations

from ..errors import InputError
from .otsu_predictor import OtsuPredictor, otsu_threshold  # noqa: F401 (re-export)
from .common import DEFAULT_MODEL, RESOURCES, cpu_threads, default_model_path  # noqa: F401
from .threshold_predictor import VH_THRESHOLD_DB, ThresholdPredictor  # noqa: F401

METHODS = ("auto", "model", "otsu", "threshold")


def resolve_device(device: str) -> str:
    """auto/cpu/cuda -> the torch device to use (imports torch)."""
    from .torch_predictor import resolve_device as resolve

    return resolve(device)


def make_predictor(method: str = "auto", model: str | None = None, device: str = "auto", tta: bool = False,
                   threads: int = 0, vh_threshold_db: float | None = None):
    """Choose the predictor: a given checkpoint (.pt: torch, .onnx: ONNX Runtime), the bundled default,
    Otsu, or the fixed VH threshold (``vh_threshold_db``, default core/predict/threshold_predictor.py)."""
    method = (method or "auto").lower()
    if method == "otsu":
        return OtsuPredictor()
    if method == "threshold":
        return ThresholdPredictor(vh_threshold_db)
    if method not in METHODS:
        raise InputError(f"unknown method '{method}'; use {', '.join(METHODS)}")
    from .model_choice import FallbackThreshold, bundled_model, why_no_bundled_model

    path = model or bundled_model()  # the bundled .onnx when onnxruntime is installed, else the .pt
    if path is None:
        if method == "model":
            raise InputError(f"method 'model' with an empty MODEL: {why_no_bundled_model()}; or use method "
                             "'threshold' or 'otsu', or give a model file")
        return FallbackThreshold(why_no_bundled_model())
    if path.lower().endswith(".onnx"):
        from .onnx_predictor import OnnxPredictor

        return OnnxPredictor(path, device=device, tta=tta, threads=threads)
    from .torch_predictor import TorchPredictor

    return TorchPredictor(path, device=device, tta=tta, threads=threads)
