"""A fixed threshold on VH backscatter (dB): the bar every model must clear.

Water where VH < ``threshold_db``. The default, :data:`VH_THRESHOLD_DB`, was
chosen on the training data of the bundled model and never on validation
chips: it maximises the pooled water IoU over the 554 ETCI 2021 tiles (both
scenes, brought to dB by training/data/etci.py, water policy there), scanned on
a 0.25 dB grid from -40 to 0 dB (IoU 0.532 there; -21 dB gives 0.424, -25 dB
0.403). Rerun: ``.venv/bin/python scripts/fit_vh_threshold.py ../shared/data/etci2021``.
The probability is a logistic of the distance below the threshold (1 dB
scale), so THRESHOLD 0.5 is exactly the dB split.
"""
from __future__ import annotations

import numpy as np

from ..bands import S1_BANDS, VH
from ..errors import InputError
from .common import below_threshold_probability
from ..progress import Progress

VH_THRESHOLD_DB = -23.25


class ThresholdPredictor:
    name = "threshold"
    bands = S1_BANDS

    def __init__(self, threshold_db: float | None = None):
        value = VH_THRESHOLD_DB if threshold_db is None else float(threshold_db)
        if not np.isfinite(value) or not -60.0 <= value <= 10.0:
            raise InputError(f"VH threshold {threshold_db} dB is outside -60..10 dB; Sentinel-1 VH over "
                             f"water lies around -30..-18 dB (default {VH_THRESHOLD_DB} dB).")
        self.threshold_db = value

    def prepare(self, source, progress: Progress):
        progress.info(f"fixed threshold on VH: water below {self.threshold_db:.2f} dB")

    def predict(self, raw, valid):
        return below_threshold_probability(raw[:, self.bands.index(VH)], self.threshold_db)

    def describe(self):
        return {"method": "threshold", "threshold_db": self.threshold_db}
