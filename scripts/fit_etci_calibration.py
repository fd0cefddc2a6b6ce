"""Refit the ETCI 2021 byte -> dB calibration knots per scene and band (training/data/etci.py).

  .venv/bin/python scripts/fit_etci_calibration.py ../shared/data/etci2021
"""
import json
import os
import sys

from floodkd.training.data.etci import fit_calibration


def main(argv=None) -> int:
    top = (argv or sys.argv[1:])[0]
    scenes = sorted(d for d in os.listdir(top) if os.path.isdir(os.path.join(top, d, "vv")))
    print(json.dumps({s: fit_calibration(top, s) for s in scenes}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
