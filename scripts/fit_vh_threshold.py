"""Print the pooled water IoU of ``VH < t`` over labelled ETCI 2021 tiles and the best ``t``.

  .venv/bin/python scripts/fit_vh_threshold.py ../shared/data/etci2021
"""
import sys

import numpy as np

from floodkd.training.data.etci import Etci2021
from floodkd.training.fit.threshold_fit import threshold_iou_curve


def main(argv=None) -> int:
    root = (argv or sys.argv[1:])[0]
    edges, iou = threshold_iou_curve(Etci2021(root))
    for t in (-26, -25, -24, -23, -22, -21, -20, -18):
        print(f"VH < {t:6.2f} dB: water IoU {iou[np.searchsorted(edges, t)]:.3f}")
    k = int(np.argmax(iou))
    print(f"best: VH < {edges[k]:.2f} dB, water IoU {iou[k]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
