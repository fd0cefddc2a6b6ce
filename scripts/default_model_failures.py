"""Pictures of where the default model still fails: docs/img/default_model_failures.png.

One row per place: VV and VH (dB, grey), the label (blue water, grey ignore; none for
unlabelled scenes), the model's water and the fixed VH threshold's water, with the
water IoU of each in the titles. Places: the Sen1Floods11 hand chips (Bolivia_312675:
shallow and vegetated flood water), the stress suite's narrow river on Spain_7370579,
two TerraMind tiles against land-cover water (a bright narrow river, dark dry land),
and the unlabelled Hurricane Harvey chip (urban flood).

  OMP_NUM_THREADS=1 .venv/bin/python scripts/default_model_failures.py [--model PATH] [--out PNG]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))


def places(data):
    from floodkd.training.data.s1_files import S1DbFiles
    from floodkd.training.data.sen1floods11 import Sen1Floods11
    from floodkd.training.data.terramind import TerraMindTiles
    from floodkd.training.evaluation.stress import CASES

    s1f = Sen1Floods11(os.path.join(data, "sen1floods11"), "all", label_source="hand")
    for chip in ("Bolivia_312675", "India_900498"):
        if chip in s1f.ids:
            yield chip, s1f.load_raw(s1f.index_of(chip)), s1f.s1_bands
    if "Spain_7370579" in s1f.ids:
        raw = s1f.load_raw(s1f.index_of("Spain_7370579"))
        yield "Spain_7370579, stress: narrow river", CASES["narrow bright river"](raw, np.random.default_rng([0, 2, 19])), s1f.s1_bands
    tm = TerraMindTiles(os.path.join(data, "terramind_examples"), label_source="lulc")
    for tile in ("433D_629L_3_1", "609U_541L_3_0"):
        if tile in tm.ids:
            yield f"TerraMind {tile} (LULC)", tm.load_raw(tm.index_of(tile)), tm.s1_bands
    harvey = os.path.join(data, "harvey2017", "harvey_crop.tif")
    if os.path.isfile(harvey):
        files = S1DbFiles([harvey], "harvey2017")
        yield "Harvey 2017 (no label)", files.load_raw(0), files.s1_bands


def iou(pred, label):
    known = label >= 0
    p, t = pred & known, (label == 1) & known
    union = (p | t).sum()
    return (p & t).sum() / union if union else float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "resources", "models", "floodkd_s1_student.pt"))
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "img", "default_model_failures.png"))
    args = ap.parse_args(argv)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    from floodkd.core.predict.threshold_predictor import VH_THRESHOLD_DB
    from floodkd.training.evaluation.scoring import CheckpointModel

    rows = list(places(args.data))
    classes = ListedColormap(["#404040", "#e6e6e6", "#1f5fd6"])
    fig = Figure(figsize=(13, 2.7 * len(rows)), dpi=80)
    FigureCanvasAgg(fig)
    model = None
    for r, (title, raw, bands) in enumerate(rows):
        holder = type("D", (), {"s1_bands": bands, "s2_bands": (), "name": title})
        model = model or CheckpointModel(args.model, holder, "cpu")
        water = (model(raw) >= 0.5) & raw.valid
        thr = (raw.s1[1] < VH_THRESHOLD_DB) & raw.valid
        labelled = (raw.label >= 0).any()
        panels = [("VV dB", raw.s1[0], (-25, 0)), ("VH dB", raw.s1[1], (-32, -8))]
        panels += [("label", raw.label, None)] if labelled else [("no label", np.full(raw.label.shape, -1), None)]
        panels += [(f"model{f' IoU {iou(water, raw.label):.2f}' if labelled else f' {water.mean():.0%} water'}",
                    np.where(raw.valid, water, -1), None),
                   (f"VH < {VH_THRESHOLD_DB} dB{f' IoU {iou(thr, raw.label):.2f}' if labelled else f' {thr.mean():.0%}'}",
                    np.where(raw.valid, thr, -1), None)]
        for c, (name, image, span) in enumerate(panels):
            ax = fig.add_subplot(len(rows), len(panels), r * len(panels) + c + 1)
            if span:
                ax.imshow(np.where(raw.valid, image, np.nan), cmap="gray", vmin=span[0], vmax=span[1])
            else:
                ax.imshow(image, cmap=classes, vmin=-1, vmax=1, interpolation="nearest")
            ax.set_title(f"{title}: {name}" if c == 0 else name, fontsize=8)
            ax.set_axis_off()
        print(f"{title}: model IoU {iou(water, raw.label):.3f}, threshold {iou(thr, raw.label):.3f}, "
              f"model water {water[raw.valid].mean():.3f}", flush=True)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
