"""Run an exported floodkd model with ONNX Runtime: segmentation without torch.

Same contract as ``TorchPredictor``: raw tiles (N, C, H, W) in dB and a valid
mask in, water probability (N, H, W) out. The checkpoint metadata stored in
the .onnx file (see core/models/onnx_export.py) is checked against the input bands
exactly like a checkpoint's.
"""
from __future__ import annotations

import json
import os

import numpy as np

from ..bands import S1_BANDS
from ..models.checkpoint import FORMAT, check_bands, check_input_transform, checkpoint_bands
from ..errors import CheckpointError, InputError, require_module
from ..models.onnx_export import METADATA_KEY
from ..progress import Progress


def _session(path: str, device: str, threads: int):
    ort = require_module("onnxruntime", "running a .onnx model needs onnxruntime: `pip install onnxruntime==1.31.1`, "
                                        "or give the .pt checkpoint (needs PyTorch), or use method 'otsu'")
    available = ort.get_available_providers()
    device = (device or "auto").lower()
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise InputError(f"unknown DEVICE '{device}'; use auto, cpu or cuda")
    if device.startswith("cuda") and "CUDAExecutionProvider" not in available:
        raise InputError(f"DEVICE={device} but this onnxruntime offers only {available}; use 'auto' or 'cpu'.")
    use_cuda = device.startswith("cuda") or (device == "auto" and "CUDAExecutionProvider" in available)
    providers = (["CUDAExecutionProvider"] if use_cuda else []) + ["CPUExecutionProvider"]
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle intra-op threads sleep instead of spinning: the engine's reader and writer threads (and
    # GDAL's) share the cores. 2048 px scene, 2 busy cores: 6.0 instead of 7.0 CPU seconds.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    from ..models.onnx_export import verify_onnx_bytes, weights_checksum

    with open(path, "rb") as fh:  # one read: the bytes verified are the bytes run
        data = fh.read()
    weights_checksum(data, path)  # readable, finite, no weights in other files: before onnxruntime reads it
    try:
        session = ort.InferenceSession(data, sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types
        raise CheckpointError(f"{path} is not a readable ONNX model ({type(exc).__name__}: {exc}). "
                              "Export one with `floodkd export-onnx CHECKPOINT OUT.onnx`.") from None
    verify_onnx_bytes(data, dict(session.get_modelmeta().custom_metadata_map), path)
    return session, ("cuda" if use_cuda else "cpu")


def read_onnx_metadata(session, path: str) -> dict:
    """The floodkd checkpoint metadata stored in the model, validated."""
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if raw is None:
        raise CheckpointError(f"{path} carries no floodkd metadata (key '{METADATA_KEY}'), so its bands, units "
                              "and classes are unknown; export it with `floodkd export-onnx`.")
    try:
        meta = json.loads(raw)
    except ValueError as exc:
        raise CheckpointError(f"{path}: its floodkd metadata (key '{METADATA_KEY}') is not JSON ({exc}); "
                              "export the model again with `floodkd export-onnx`.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: its metadata is not a '{FORMAT}' header.")
    missing = [k for k in ("arch", "encoder", "bands", "classes") if k not in meta]
    if missing:
        raise CheckpointError(f"{path}: its floodkd metadata lacks {missing}; it cannot be used safely.")
    from ..models.checkpoint import check_header

    check_header(meta, path)
    check_io_shapes(session, meta, path)
    return meta


def check_io_shapes(session, meta: dict, path: str) -> None:
    """The graph must take (N, C, H, W) with C = the metadata's channels and give (N, classes, H, W)."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    channels = meta.get("in_channels", len(meta["bands"]))
    shape = inputs[0].shape if len(inputs) == 1 else None
    if shape is None or len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != channels):
        raise CheckpointError(f"{path}: its graph takes {len(inputs)} input(s) of shape "
                              f"{[i.shape for i in inputs]}, not one (batch, {channels}, height, width) input as "
                              "floodkd exports; it cannot be used.")
    out = outputs[0].shape if outputs else None
    if out is None or len(out) != 4 or (isinstance(out[1], int) and out[1] != len(meta["classes"])):
        raise CheckpointError(f"{path}: its graph gives {[o.shape for o in outputs]}, not (batch, "
                              f"{len(meta['classes'])} classes, height, width) probabilities; it cannot be used.")


def check_output(probs, x_shape, classes: int, path: str):
    """``probs`` when it has the shape (N, classes, H, W) of the input ``x_shape``, else a CheckpointError."""
    n, _, h, w = x_shape
    if getattr(probs, "shape", None) != (n, classes, h, w):
        raise CheckpointError(f"{path} gave probabilities of shape {getattr(probs, 'shape', None)} for an input "
                              f"of shape {tuple(x_shape)}; expected {(n, classes, h, w)}. The model's graph does not "
                              "fit its metadata: export it again with `floodkd export-onnx`.")
    return probs


class OnnxPredictor:
    """A floodkd model exported to ONNX, run by ONNX Runtime (CPU, or CUDA if offered)."""

    name = "model"

    def __init__(self, path: str, device: str = "auto", tta: bool = False, threads: int = 0):
        from .common import cpu_threads

        if not os.path.isfile(path):
            raise CheckpointError(f"ONNX model not found: {path}. Leave MODEL empty for the bundled default.")
        self.path = path
        self.threads = cpu_threads(threads)
        self.session, self.device = _session(path, device, self.threads)
        self.ckpt = read_onnx_metadata(self.session, path)
        check_input_transform(self.ckpt, path)
        check_bands(self.ckpt, S1_BANDS, path)
        self.bands = checkpoint_bands(self.ckpt)
        self.multiple = 2 ** self.ckpt.get("model_kwargs", {}).get("encoder_depth", 5)
        self.water = list(self.ckpt["classes"]).index("water")
        self.input_name = self.session.get_inputs()[0].name
        self.tta = tta

    def prepare(self, source, progress: Progress):
        progress.info(f"ONNX model {os.path.basename(self.path)} ({self.ckpt['arch']}/{self.ckpt['encoder']}) "
                      f"with onnxruntime on {self.device}, {self.threads} threads")

    def _probs(self, x):
        probs = self.session.run(None, {self.input_name: np.ascontiguousarray(x)})[0]
        return check_output(probs, x.shape, len(self.ckpt["classes"]), self.path)

    def predict(self, raw, valid):
        from .representation import model_input

        x = model_input(raw, valid, self.bands, self.ckpt)
        n, c, h, w = x.shape
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="reflect")
        probs = self._probs(x)
        if self.tta:
            probs = probs + self._probs(x[..., ::-1])[..., ::-1] + self._probs(x[..., ::-1, :])[..., ::-1, :]
            probs = probs / 3
        return probs[:, self.water, :h, :w].astype(np.float32)

    def describe(self):
        return {"method": "model", "model": self.path, "device": self.device, "runtime": "onnxruntime",
                "arch": self.ckpt["arch"], "encoder": self.ckpt["encoder"]}
