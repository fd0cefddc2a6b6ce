"""Choose a fixed VH threshold (dB) on labelled training data: ``python -m floodkd.training.threshold_fit ROOT``.

ROOT is the ETCI 2021 folder (training/data_etci.py); prints the pooled water IoU
of ``VH < t`` on a 0.25 dB grid and the best ``t`` (core/threshold_predictor.py).
"""
from __future__ import annotations

import sys

import numpy as np

EDGES = np.arange(-40.0, 0.001, 0.25)


def threshold_iou_curve(dataset) -> tuple:
    """(thresholds, pooled water IoU of VH < threshold) over a labelled dB dataset."""
    vh_index = [b.name for b in dataset.s1_bands].index("VH")
    water = np.zeros(len(EDGES) - 1)
    dry = np.zeros(len(EDGES) - 1)
    for i in range(len(dataset)):
        raw = dataset.load_raw(i)
        vh = np.clip(raw.s1[vh_index], EDGES[0], EDGES[-1] - 1e-3)
        water += np.histogram(vh[raw.label == 1], EDGES)[0]
        dry += np.histogram(vh[raw.label == 0], EDGES)[0]
    below_water = np.concatenate([[0], np.cumsum(water)])
    below_dry = np.concatenate([[0], np.cumsum(dry)])
    return EDGES, below_water / np.maximum(water.sum() + below_dry, 1)


def main(argv=None) -> int:
    from .data_etci import Etci2021

    root = (argv or sys.argv[1:])[0]
    edges, iou = threshold_iou_curve(Etci2021(root))
    for t in (-26, -25, -24, -23, -22, -21, -20, -18):
        print(f"VH < {t:6.2f} dB: water IoU {iou[np.searchsorted(edges, t)]:.3f}")
    k = int(np.argmax(iou))
    print(f"best: VH < {edges[k]:.2f} dB, water IoU {iou[k]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
