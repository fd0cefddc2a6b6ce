"""Evaluate a water predictor on a labelled dataset with the paper's pooled metric.

Confusion counts are summed over every valid pixel of every chip (label != -1)
and the IoU of the water class is computed once from the totals (plus mIoU, F1
and accuracy), as Garg et al. report it. Per-chip numbers go to an optional CSV.

Predictors:
    * ``"otsu"``: one Otsu threshold per chip. On data with a VH band it
      thresholds VH in dB (600 bins over the VH clip range, -30..0 dB, as
      ``floodkd segment``); on OMBRIA, whose S1 is a single undocumented 8-bit
      band, it thresholds that band (256 bins, one per grey level). Darker
      than the threshold (or equal) is water.
    * a checkpoint path: the network is run per chip with the checkpoint's own
      bands, clip ranges and ``input_transform`` (core.representation); an
      S1-only model reads the dataset's S1, a teacher S1 + S2.
    * a callable ``fn(sample) -> (H, W)`` water probability (or 0/1), given the
      normalised sample dict of :mod:`floodkd.training.data.datasets`.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os

import numpy as np

from ...core.errors import CheckpointError, InputError
from ...core.option_checks import check_probability
from ...core.predict.factory import otsu_threshold
from ...core.progress import Progress
from ..data.datasets import to_sample
from .metrics import Confusion

CSV_FIELDS = ("id", "water_iou", "f1", "accuracy", "valid_pixels", "label_water_fraction",
              "predicted_water_fraction")


def otsu_water(raw_s1: np.ndarray, valid: np.ndarray, s1_bands) -> tuple:
    """Water mask of one chip by Otsu's threshold; returns (bool (H, W), threshold).

    Uses the band named VH when there is one, else the only band (OMBRIA).
    Chips without a valid pixel get an all-dry mask and threshold NaN.
    """
    names = [b.name for b in s1_bands]
    if "VH" in names:
        spec = s1_bands[names.index("VH")]
        edges = np.linspace(spec.low, spec.high, 601)
    elif len(s1_bands) == 1:
        spec = s1_bands[0]
        edges = np.arange(spec.low - 0.5, spec.high + 1.0)  # one bin per 8-bit level
    else:
        raise InputError(f"Otsu needs a VH band or a single S1 band; this dataset has {', '.join(names)}.")
    band = np.clip(raw_s1[names.index(spec.name)], spec.low, spec.high)
    if not valid.any():
        return np.zeros(valid.shape, bool), float("nan")
    threshold = otsu_threshold(np.histogram(band[valid], bins=edges)[0], edges)
    return (band <= threshold) & valid, threshold


def threshold_water(raw_s1: np.ndarray, s1_bands, threshold_db: float) -> np.ndarray:
    """VH < ``threshold_db`` (dB) -- the fixed-threshold baseline (core/predict/threshold_predictor.py)."""
    names = [b.name for b in s1_bands]
    if "VH" not in names or s1_bands[names.index("VH")].units != "dB":
        raise InputError(f"the fixed VH threshold needs VH in dB; this dataset gives "
                         f"{', '.join(f'{b.name} ({b.units})' for b in s1_bands)}. Use --method otsu or a model.")
    return raw_s1[names.index("VH")] < threshold_db


def model_header(path: str) -> dict:
    """A model's checkpoint header (bands, classes, architecture...): a .pt checkpoint or an exported .onnx."""
    return _open_model(path, "cpu", load=False)[0]


def _open_model(path: str, device: str, load: bool = True):
    """(header, fn x -> class probabilities (N, C, H, W), device) for a .pt (torch) or .onnx (onnxruntime) model."""
    if path.lower().endswith(".onnx"):
        from ...core.predict.onnx_predictor import _session, read_onnx_metadata
        from ...core.predict.common import cpu_threads

        session, device = _session(path, device, cpu_threads(0))
        header = read_onnx_metadata(session, path)
        from ...core.predict.onnx_predictor import check_output

        name = session.get_inputs()[0].name
        classes = len(header["classes"])
        return header, lambda x: check_output(session.run(None, {name: np.ascontiguousarray(x)})[0], x.shape,
                                              classes, path), device
    from ...core.models.checkpoint import load_checkpoint, model_from_checkpoint
    from ...core.predict.factory import resolve_device

    header = load_checkpoint(path, role="evaluate")
    if not load:
        return header, None, device
    import torch

    device = resolve_device(device)
    model = model_from_checkpoint(header).to(device)

    def run(x):
        with torch.inference_mode():
            out = model(torch.from_numpy(np.ascontiguousarray(x)).to(device))
            return torch.softmax(out.float(), 1).cpu().numpy()

    return header, run, device


class CheckpointModel:
    """A floodkd model applied to dataset chips: a checkpoint (torch, inference mode) or an exported .onnx.

    Args:
        path: the checkpoint (.pt) or exported model (.onnx).
        dataset: the dataset it will see; its bands must be the checkpoint's
            (S1 for a student/supervised model, S1 then S2 for a teacher).
        device: "auto", "cpu" or "cuda[:N]".
    """

    def __init__(self, path: str, dataset, device: str = "auto"):
        from ...core.models.checkpoint import check_bands, checkpoint_bands
        from ...core.models.architectures import required_multiple

        self.path = path
        self.ckpt, self._probabilities, self.device = _open_model(path, device)
        self.bands = checkpoint_bands(self.ckpt)
        wanted = [b.name for b in self.bands]
        s1, s2 = tuple(dataset.s1_bands), tuple(dataset.s2_bands)
        if wanted == [b.name for b in s1]:
            self.use_s2 = False
        elif s2 and wanted == [b.name for b in s1 + s2]:
            self.use_s2 = True
        else:
            hint = ("build the dataset with S2 (with_s2=True; floodkd evaluate does so for S1+S2 checkpoints)"
                    if len(wanted) > len(s1) and not s2 else "use a checkpoint trained on this dataset's bands")
            raise CheckpointError(
                f"{path} expects bands {', '.join(wanted)}, but the {dataset.name} dataset provides "
                f"{', '.join(b.name for b in s1 + s2)}; {hint}.")
        check_bands(self.ckpt, s1 + s2 if self.use_s2 else s1, path)
        self.multiple = required_multiple(self.ckpt["arch"], self.ckpt.get("model_kwargs", {}))
        self.water = list(self.ckpt["classes"]).index("water")

    def describe(self) -> dict:
        return {"method": "model", "model": self.path, "device": self.device, "arch": self.ckpt["arch"],
                "encoder": self.ckpt["encoder"], "role": self.ckpt.get("role")}

    def __call__(self, raw) -> np.ndarray:
        """Water probability (H, W) float32 for one :class:`RawChip`."""
        from ...core.predict.representation import model_input

        stack = np.concatenate([raw.s1, raw.s2]) if self.use_s2 else raw.s1
        x = model_input(stack[None], raw.valid[None], self.bands, self.ckpt)
        h, w = x.shape[-2:]
        x = np.pad(x, ((0, 0), (0, 0), (0, (-h) % self.multiple), (0, (-w) % self.multiple)), mode="reflect")
        from ...core.predict.common import check_finite_probabilities

        water = self._probabilities(x)[0, self.water, :h, :w].astype(np.float32)
        return check_finite_probabilities(water, raw.valid, self.path, f"chip {raw.id}")


def _chip_row(chip_id, conf: Confusion, label, pred_water) -> dict:
    valid = label != -1
    n = int(valid.sum())
    return {"id": chip_id, "water_iou": conf.water_iou(), "f1": conf.f1(), "accuracy": conf.accuracy(),
            "valid_pixels": n, "label_water_fraction": float((label == 1).sum() / n) if n else float("nan"),
            "predicted_water_fraction": float((pred_water & valid).sum() / n) if n else float("nan")}


def evaluate(dataset, predictor="otsu", *, device: str = "auto", threshold: float = 0.5, csv_path=None,
             panel_path=None, panel_ids=None, progress: Progress | None = None, json_path=None,
             protect=()) -> dict:
    """Pooled water IoU (and mIoU, F1, accuracy) of ``predictor`` on ``dataset``.

    Args:
        dataset: a labelled floodkd dataset (see :mod:`floodkd.training.data.datasets`).
        predictor: "otsu", a checkpoint path, or ``fn(sample) -> (H, W)`` probability.
        device: torch device for a checkpoint ("auto", "cpu", "cuda").
        threshold: water where the probability is >= this (model and callable).
        csv_path: write one row per chip (``CSV_FIELDS``) here.
        panel_path: write a PNG of input / label / prediction for some chips here.
        panel_ids: chip ids for the panel (default: the first four).
        progress: progress/cancel hooks, polled once per chip.
        json_path: write the pooled metrics and the model's details here (JSON).
        protect: dataset folders whose existing files no output may be.

    The CSV, panel and JSON go through segment's destination checks before any
    work (never the model or a dataset file, never through a link) and are
    published together at the end, or not at all.

    Returns:
        dict with water_iou, miou, f1, accuracy, tp/fp/fn/tn, valid_pixels,
        n_chips, dataset and method (plus model details for a checkpoint).

    Raises:
        InputError: unlabelled dataset, unknown panel ids, bad predictor output.
        CheckpointError: the checkpoint does not fit the dataset's bands.
    """
    from ...core.io.destinations import Files
    from ...core.io.publish import publishing

    check_probability(threshold)
    files = Files((("--csv (OUTPUT_CSV)", csv_path, (".csv",)), ("--panel (OUTPUT_PANEL)", panel_path, (".png",)),
                   ("OUTPUT_JSON", json_path, (".json",))), protect=tuple(protect))
    model_path = str(predictor) if isinstance(predictor, (str, os.PathLike)) and os.path.exists(predictor) else None
    if not files.named():
        return _evaluate(dataset, predictor, device, threshold, panel_ids, progress)
    with publishing(files, {"MODEL": model_path}, progress=progress) as pub:
        result = _evaluate(dataset, predictor, device, threshold, panel_ids, progress, pub, files)
    return result


def _evaluate(dataset, predictor, device, threshold, panel_ids, progress, pub=None, files=None):
    if not dataset.labelled:
        raise InputError(f"the {dataset.name} dataset is unlabelled (labels all -1); evaluation needs "
                         "labels: use a labelled split (OMBRIA 'after', Sen1Floods11 LabelHand).")
    progress = progress or Progress()
    info = {"method": "otsu"}
    model = None
    if isinstance(predictor, str) and predictor.lower() == "threshold":
        from ...core.predict.threshold_predictor import VH_THRESHOLD_DB

        info = {"method": "threshold", "threshold_db": VH_THRESHOLD_DB}
    elif isinstance(predictor, (str, os.PathLike)) and str(predictor).lower() != "otsu":
        model = CheckpointModel(str(predictor), dataset, device)
        info = model.describe()
    elif callable(predictor):
        info = {"method": getattr(predictor, "__name__", type(predictor).__name__)}
    elif not isinstance(predictor, str):
        raise InputError(f"predictor {predictor!r} is not usable; give 'otsu', a checkpoint path or "
                         "a function sample -> (H, W) water probability.")
    panel_ids = list(panel_ids) if panel_ids is not None else list(dataset.ids[:4])
    for chip in panel_ids:
        dataset.index_of(chip)
    total, rows, panel = Confusion(), [], []
    for i in range(len(dataset)):
        progress.check_cancelled()
        raw = dataset.load_raw(i)
        sample = None
        if model is not None:
            water = model(raw) >= threshold
        elif callable(predictor):
            sample = to_sample(raw, dataset.s1_bands, dataset.s2_bands)
            water = np.asarray(predictor(sample)) >= threshold
            if water.shape != raw.label.shape:
                raise InputError(f"the predictor returned shape {water.shape} for chip {raw.id}; "
                                 f"it must return the chip's (H, W) = {raw.label.shape}.")
        elif info["method"] == "threshold":
            water = threshold_water(raw.s1, dataset.s1_bands, info["threshold_db"])
        else:
            water = otsu_water(raw.s1, raw.valid, dataset.s1_bands)[0]
        water &= raw.valid
        chip = Confusion().update(water.astype(np.int64), raw.label)
        total.merge(chip)
        rows.append(_chip_row(raw.id, chip, raw.label, water))
        if raw.id in panel_ids:
            if sample is None:
                sample = to_sample(raw, dataset.s1_bands, dataset.s2_bands)
            panel.append((sample, water))
        progress.report((i + 1) / len(dataset), f"evaluated {raw.id}")
    if total.tp + total.fp + total.fn + total.tn == 0:
        raise InputError(f"the {dataset.name} dataset has no labelled pixel ({len(dataset)} chip(s), every label "
                         "is nodata): nothing to score. Check --label-source and the label files.")
    result = total.as_dict()
    result.update(n_chips=len(dataset), dataset=dataset.name, **info)
    if pub is not None:
        csv_path, panel_path, json_path = (p for _, p, _ in files.paths)
        if csv_path:
            pub.write_text(csv_path, chip_csv_text(rows))
        if panel_path:
            write_panel(pub.stage(panel_path), panel, dataset.s1_bands, dataset.s2_bands)
        if json_path:
            plain = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                     for k, v in result.items() if isinstance(v, (int, float, str))}
            pub.write_text(json_path, json.dumps(plain, indent=1))
    return result




def chip_csv_text(rows) -> str:
    """One row per chip with ``CSV_FIELDS`` (NaN where a chip has no valid pixel)."""
    fh = io.StringIO(newline="")
    writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in row.items()})
    return fh.getvalue()


def _display_channels(sample: dict, s1_bands, s2_bands) -> list:
    """(title, image) pairs to show: the S1 band Otsu uses (VH or the only one), S2 RGB."""
    names = [b.name for b in s1_bands]
    s1_index = names.index("VH") if "VH" in names else 0
    shown = [(f"S1 {names[s1_index]}", sample["s1"][s1_index])]
    if "s2" in sample:
        s2_names = [b.name for b in s2_bands]
        rgb = [s2_names.index(n) for trio in (("B4", "B3", "B2"), ("R", "G", "B"))
               for n in trio if set(trio) <= set(s2_names)]
        if rgb:
            image = np.moveaxis(sample["s2"][rgb], 0, -1)
            shown.append(("S2 RGB", np.clip(image / max(float(np.percentile(image, 98)), 1e-6), 0, 1)))
    return shown


def write_panel(path, chips, s1_bands, s2_bands=()) -> None:
    """PNG grid, one row per chip: input(s), label and prediction.

    Colours: water blue, dry light grey, ignore / nodata dark grey.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    if not chips:
        raise InputError(f"no chip to draw in {path}; give panel ids that are in the dataset.")
    classes = ListedColormap(["#404040", "#e6e6e6", "#1f5fd6"])  # -1 ignore, 0 dry, 1 water
    columns = len(_display_channels(chips[0][0], s1_bands, s2_bands)) + 2
    fig = Figure(figsize=(2.6 * columns, 2.6 * len(chips)), dpi=100)
    FigureCanvasAgg(fig)
    for row, (sample, water) in enumerate(chips):
        prediction = np.where(sample["valid"], water.astype(np.int64), -1)
        panels = _display_channels(sample, s1_bands, s2_bands)
        panels += [("label", sample["label"]), ("prediction", prediction)]
        for col, (title, image) in enumerate(panels):
            ax = fig.add_subplot(len(chips), columns, row * columns + col + 1)
            if title in ("label", "prediction"):
                ax.imshow(image, cmap=classes, vmin=-1, vmax=1, interpolation="nearest")
            else:
                ax.imshow(image, cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"{sample['id']}: {title}" if col == 0 else title, fontsize=8)
            ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, format="png")


def model_needs_s2(path: str) -> bool:
    """True when the model's bands (.pt checkpoint or exported .onnx) include Sentinel-2 (a teacher)."""
    from ...core.models.checkpoint import checkpoint_bands

    return any(b.sensor == "S2" for b in checkpoint_bands(model_header(path)))
