"""Pooled segmentation metrics, as in the paper: counts summed over all valid
pixels of a split, then IoU of the water class (plus mIoU, F1, accuracy)."""
from __future__ import annotations

import numpy as np

IGNORE = -1


class Confusion:
    """Binary confusion counts over valid pixels (label != -1)."""

    def __init__(self):
        self.tp = self.fp = self.fn = self.tn = 0

    def update(self, pred, label) -> "Confusion":
        """Add a prediction (0 dry / 1 water) against a label (0, 1, -1 ignored)."""
        pred = np.asarray(pred)
        label = np.asarray(label)
        if pred.shape != label.shape:
            raise ValueError(f"prediction shape {pred.shape} differs from label shape {label.shape}")
        valid = label != IGNORE
        p = pred[valid] == 1
        t = label[valid] == 1
        self.tp += int(np.count_nonzero(p & t))
        self.fp += int(np.count_nonzero(p & ~t))
        self.fn += int(np.count_nonzero(~p & t))
        self.tn += int(np.count_nonzero(~p & ~t))
        return self

    def merge(self, other: "Confusion") -> "Confusion":
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.tn += other.tn
        return self

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @staticmethod
    def _ratio(a, b) -> float:
        return float(a) / b if b else float("nan")

    def water_iou(self) -> float:
        return self._ratio(self.tp, self.tp + self.fp + self.fn)

    def dry_iou(self) -> float:
        return self._ratio(self.tn, self.tn + self.fn + self.fp)

    def miou(self) -> float:
        return (self.water_iou() + self.dry_iou()) / 2

    def f1(self) -> float:
        return self._ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def accuracy(self) -> float:
        return self._ratio(self.tp + self.tn, self.total)

    def as_dict(self) -> dict:
        return {"water_iou": self.water_iou(), "miou": self.miou(), "f1": self.f1(),
                "accuracy": self.accuracy(), "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "tn": self.tn, "valid_pixels": self.total}
