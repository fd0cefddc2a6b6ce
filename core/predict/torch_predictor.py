"""A floodkd checkpoint run with PyTorch (inference mode, AMP on CUDA, flip TTA)."""
from __future__ import annotations

import os

import numpy as np

from ..bands import S1_BANDS
from ..models.checkpoint import check_bands, checkpoint_bands, load_checkpoint, model_from_checkpoint
from ..errors import InputError, require_torch
from ..models.architectures import required_multiple
from .common import cpu_threads
from ..progress import Progress


def resolve_device(device: str) -> str:
    torch = require_torch()
    device = (device or "auto").lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(
            f"DEVICE={device} but PyTorch {torch.__version__} sees no CUDA GPU here; "
            "use 'auto' or 'cpu'.")
    if device not in ("cpu",) and not device.startswith("cuda"):
        raise InputError(f"unknown device '{device}'; use auto, cpu or cuda")
    return device


class TorchPredictor:
    """A floodkd checkpoint run with torch (inference mode, AMP on CUDA, flip TTA)."""

    name = "model"

    def __init__(self, path: str, device: str = "auto", tta: bool = False, threads: int = 0):
        self.path = path
        self.ckpt = load_checkpoint(path)
        check_bands(self.ckpt, S1_BANDS, path)
        self.bands = checkpoint_bands(self.ckpt)
        self.device = resolve_device(device)
        self.threads = cpu_threads(threads)
        if self.device == "cpu":
            # Process-wide in torch; intra-op threads only (inter-op is left alone).
            require_torch().set_num_threads(self.threads)
        self.tta = tta
        self.multiple = required_multiple(self.ckpt["arch"], self.ckpt.get("model_kwargs", {}))
        self.model = model_from_checkpoint(self.ckpt).to(self.device)
        # NHWC lets oneDNN pick its fast convolutions: measured 1.3-1.8x on this
        # project's 2-core CPU (benchmarks/segment_benchmark.py). CUDA is left NCHW
        # (untested here).
        self.memory_format = None
        if self.device == "cpu":
            self.memory_format = require_torch().channels_last
            self.model = self.model.to(memory_format=self.memory_format)
        self.water = list(self.ckpt["classes"]).index("water")
        # On a GPU the engine keeps the blending buffers there (core/blending.py).
        self.blend_device = self.device if self.device.startswith("cuda") else None

    def prepare(self, source, progress: Progress):
        where = f"cpu, {self.threads} threads" if self.device == "cpu" else self.device
        progress.info(f"model {os.path.basename(self.path)} ({self.ckpt['arch']}/"
                      f"{self.ckpt['encoder']}, {self.ckpt.get('role')}) on {where}")

    def _forward(self, x):
        torch = require_torch()
        out = self.model(x)
        if not self.tta:
            return torch.softmax(out.float(), 1)
        probs = torch.softmax(out.float(), 1)
        for dims in ((3,), (2,)):
            probs += torch.flip(torch.softmax(self.model(torch.flip(x, dims)).float(), 1), dims)
        return probs / 3

    def predict(self, raw, valid):
        """Water probability (N, H, W) float32 as numpy."""
        return np.ascontiguousarray(self.predict_tensor(raw, valid).cpu().numpy(), np.float32)

    def predict_tensor(self, raw, valid):
        """Water probability (N, H, W) float32 as a torch tensor on the predictor's device (the
        engine blends it there on a GPU: core/blending.py)."""
        torch = require_torch()
        if self.device.startswith("cuda"):
            return self._predict_cuda(raw, valid)
        from .representation import model_input

        x = model_input(raw, valid, self.bands, self.ckpt)
        n, c, h, w = x.shape
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="reflect")
        with torch.inference_mode():
            xt = torch.from_numpy(np.ascontiguousarray(x))
            if self.memory_format is not None:
                xt = xt.contiguous(memory_format=self.memory_format)
            return self._forward(xt)[:, self.water, :h, :w].float()

    def _predict_cuda(self, raw, valid):
        """Raw float32 and the mask go to the GPU (pinned host memory, asynchronous copies);
        dB clipping, scaling and masking run there (representation.model_input_torch, the
        same values as on the CPU); the probability stays on the GPU."""
        torch = require_torch()
        h, w = raw.shape[-2:]
        with torch.inference_mode():
            x = input_on_device(raw, valid, self.bands, self.ckpt, self.multiple, self.device, pin=True)
            with torch.autocast("cuda", dtype=torch.float16):
                probs = self._forward(x)
            return probs[:, self.water, :h, :w].float()

    def describe(self):
        return {"method": "model", "model": self.path, "device": self.device,
                "arch": self.ckpt["arch"], "encoder": self.ckpt["encoder"]}


def input_on_device(raw, valid, bands, ckpt, multiple: int, device: str, pin: bool = False):
    """The network input of ``raw`` (N, C, H, W) float32 and ``valid`` (N, H, W), made on ``device``
    and reflect-padded to a multiple of ``multiple``: the same values as numpy's model_input + np.pad.

    Only raw values and the mask are copied (``pin``: through pinned memory, without waiting).
    """
    torch = require_torch()
    from .representation import model_input, model_input_torch

    n, c, h, w = raw.shape
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph >= h or pw >= w:  # a tile smaller than the padding (a tiny scene): numpy reflects it
        raw = np.pad(model_input(raw, valid, bands, ckpt), ((0, 0), (0, 0), (0, ph), (0, pw)), mode="reflect")
        valid, ph, pw = None, 0, 0

    def to_device(array):
        t = torch.from_numpy(np.ascontiguousarray(array))
        return (t.pin_memory() if pin else t).to(device, non_blocking=pin)

    x = to_device(raw)
    if valid is not None:
        x = model_input_torch(x, to_device(valid), bands)
    if ph or pw:
        x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="reflect")
    return x
