"""Quick-looks of the default model on the TerraMind tiles, against their land-cover water.

For every tile in ../shared/data/terramind_examples: VV and VH (dB), the LULC water
class (a yearly land-cover product: a weak reference), the default model's water and
the fixed VH threshold's, with water IoU against LULC water in the titles. Writes
docs/img/terramind_quicklooks.png and prints one line per tile.

  .venv/bin/python scripts/terramind_quicklooks.py [--model resources/models/floodkd_s1_student.pt]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "terramind_examples"))


def iou(pred, label):
    ok = label != -1
    union = ((pred | (label == 1)) & ok).sum()
    return float((pred & (label == 1) & ok).sum() / union) if union else float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "resources", "models", "floodkd_s1_student.pt"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "img", "terramind_quicklooks.png"))
    args = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from floodkd.core.predict.threshold_predictor import VH_THRESHOLD_DB
    from floodkd.training.data.terramind import TerraMindTiles
    from floodkd.training.evaluation.scoring import CheckpointModel

    data = TerraMindTiles(DATA, label_source="lulc")
    model = CheckpointModel(args.model, data, device="cpu")
    fig, axes = plt.subplots(len(data), 5, figsize=(15, 3.1 * len(data)), squeeze=False)
    for i in range(len(data)):
        raw = data.load_raw(i)
        water = (model(raw) >= 0.5) & raw.valid
        thr = (raw.s1[1] < VH_THRESHOLD_DB) & raw.valid
        m_iou, t_iou = iou(water, raw.label), iou(thr, raw.label)
        lulc = (raw.label == 1).mean()
        print(f"{raw.id}: LULC water {lulc:.1%}, model water {water.mean():.1%} (IoU {m_iou:.3f}), "
              f"VH threshold water {thr.mean():.1%} (IoU {t_iou:.3f})")
        panels = [(raw.s1[0], "VV dB", (-25, 0)), (raw.s1[1], "VH dB", (-32, -8)),
                  (raw.label == 1, f"LULC water {lulc:.1%}", (0, 1)),
                  (water, f"model water {water.mean():.1%}, IoU {m_iou:.2f}", (0, 1)),
                  (thr, f"VH<{VH_THRESHOLD_DB:g} dB {thr.mean():.1%}, IoU {t_iou:.2f}", (0, 1))]
        for ax, (img, title, (lo, hi)) in zip(axes[i], panels):
            ax.imshow(img, cmap="gray" if "dB" in title[:6] else "Blues", vmin=lo, vmax=hi, interpolation="nearest")
            ax.set_title(f"{raw.id}\n{title}" if ax is axes[i][0] else title, fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    fig.savefig(args.out, dpi=70)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
