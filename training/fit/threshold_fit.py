"""Choose a fixed VH threshold (dB) on labelled training data (core/predict/threshold_predictor.py).

Run it with ``python scripts/fit_vh_threshold.py ROOT`` (ROOT: the ETCI 2021 folder):
it prints the pooled water IoU of ``VH < t`` on a 0.25 dB grid and the best ``t``.
"""
from __future__ import annotations

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
