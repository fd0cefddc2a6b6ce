"""Per-tile water-probability predictors: a trained network, or Otsu on VH.

A predictor takes raw tiles ``(N, C, H, W)`` float32 in the input's units
(invalid pixels already zeroed) with a valid mask ``(N, H, W)`` and returns the
water probability ``(N, H, W)`` float32 in [0, 1].
"""
from __future__ import annotations

import os

import numpy as np
from rasterio.windows import Window

from .bands import S1_BANDS, VH
from .checkpoint import check_bands, checkpoint_bands, load_checkpoint, model_from_checkpoint
from .errors import InputError, require_torch
from .progress import Progress
from .raster_io import read_block

RESOURCES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "resources")
DEFAULT_MODEL = os.path.join(RESOURCES, "models", "floodkd_s1_student.pt")


def default_model_path():
    """The bundled student checkpoint, or None while none ships (then Otsu)."""
    return DEFAULT_MODEL if os.path.isfile(DEFAULT_MODEL) else None


def otsu_threshold(hist: np.ndarray, edges: np.ndarray) -> float:
    """Otsu's threshold of a histogram: maximises the between-class variance."""
    hist = hist.astype(np.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mu0 = np.divide(m0, w0, out=np.zeros_like(m0), where=w0 > 0)
    mu1 = np.divide(m0[-1] - m0, w1, out=np.zeros_like(m0), where=w1 > 0)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(edges[1:][np.argmax(between)])


class OtsuPredictor:
    """The paper's baseline: one Otsu threshold on the scene's VH histogram (dB).

    Needs a first pass over the scene (streamed) to build the histogram. The
    probability is a logistic of the distance below the threshold (1 dB scale),
    so THRESHOLD 0.5 is exactly Otsu's split.
    """

    name = "otsu"
    bands = S1_BANDS

    def __init__(self, bins: int = 600):
        self.edges = np.linspace(VH.low, VH.high, bins + 1, dtype=np.float64)
        self.threshold_db = None

    def prepare(self, source, progress: Progress, strip: int = 1024):
        hist = np.zeros(len(self.edges) - 1, np.int64)
        vh_index = [n for n in source.band_names].index("VH")
        with source.open() as ds:
            for top in range(0, source.height, strip):
                progress.check_cancelled()
                h = min(strip, source.height - top)
                data, valid = read_block(ds, source, Window(0, top, source.width, h))
                vh = np.clip(data[vh_index][valid], VH.low, VH.high)
                hist += np.histogram(vh, bins=self.edges)[0]
                progress.report((top + h) / source.height, "Otsu: VH histogram")
        if hist.sum() == 0:
            raise InputError(f"{source.path} holds no valid VH pixel (all NaN or nodata).")
        self.threshold_db = otsu_threshold(hist, self.edges)
        progress.info(f"Otsu threshold on VH: {self.threshold_db:.2f} dB")

    def predict(self, raw, valid):
        vh = raw[:, self.bands.index(VH)]
        z = np.clip(vh - np.float32(self.threshold_db), -50, 50)
        return (1.0 / (1.0 + np.exp(z))).astype(np.float32)

    def describe(self):
        return {"method": "otsu", "threshold_db": self.threshold_db}


def cpu_threads(threads: int = 0) -> int:
    """Threads for CPU inference: ``threads`` if > 0, else the CPUs this process may use."""
    if threads and threads > 0:
        return int(threads)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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
        self.multiple = 2 ** self.ckpt.get("model_kwargs", {}).get("encoder_depth", 5)
        self.model = model_from_checkpoint(self.ckpt).to(self.device)
        # NHWC lets oneDNN pick its fast convolutions: measured 1.3-1.8x on this
        # project's 2-core CPU (benchmarks/segment_benchmark.py). CUDA is left NCHW
        # (untested here).
        self.memory_format = None
        if self.device == "cpu":
            self.memory_format = require_torch().channels_last
            self.model = self.model.to(memory_format=self.memory_format)
        self.water = list(self.ckpt["classes"]).index("water")

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
        torch = require_torch()
        from .representation import model_input

        x = model_input(raw, valid, self.bands, self.ckpt)
        n, c, h, w = x.shape
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="reflect")
        with torch.inference_mode():
            xt = torch.from_numpy(np.ascontiguousarray(x)).to(self.device)
            if self.memory_format is not None:
                xt = xt.contiguous(memory_format=self.memory_format)
            if self.device.startswith("cuda"):
                with torch.autocast("cuda", dtype=torch.float16):
                    probs = self._forward(xt)
            else:
                probs = self._forward(xt)
            water = probs[:, self.water, :h, :w].float().cpu().numpy()
        return water.astype(np.float32)

    def describe(self):
        return {"method": "model", "model": self.path, "device": self.device,
                "arch": self.ckpt["arch"], "encoder": self.ckpt["encoder"]}


def make_predictor(method: str = "auto", model: str | None = None, device: str = "auto", tta: bool = False,
                   threads: int = 0):
    """Choose the predictor: a given checkpoint (.pt: torch, .onnx: ONNX Runtime), the bundled default, or Otsu."""
    method = (method or "auto").lower()
    if method == "otsu":
        return OtsuPredictor()
    if method not in ("auto", "model"):
        raise InputError(f"unknown method '{method}'; use auto, model or otsu")
    path = model or default_model_path()
    if path is None:
        if method == "model":
            raise InputError("method 'model' needs MODEL (no default model is bundled); use 'otsu' or give a checkpoint")
        return OtsuPredictor()
    if path.lower().endswith(".onnx"):
        from .onnx_predictor import OnnxPredictor

        return OnnxPredictor(path, device=device, tta=tta, threads=threads)
    return TorchPredictor(path, device=device, tta=tta, threads=threads)
