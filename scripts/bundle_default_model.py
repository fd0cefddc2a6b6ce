"""Bundle a trained student as the default model (resources/models/floodkd_s1_student.pt).

Copies the checkpoint without its optimiser/resume state (float32 weights), records
the validation figures from scripts/default_model_results.py --json, and checks
that the weights are finite. Then run scripts/export_bundled_onnx.py for the .onnx.

  .venv/bin/python scripts/bundle_default_model.py --src runs/default/student_s0.last.pt \
      --results runs/default/results.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "resources", "models", "floodkd_s1_student.pt")

TRAINING = {
    "recipe": "scripts/train_default_model.py --stage all --seeds 0 1 2 (6 epochs x 34 steps, batch 16 of "
              "128x128 crops, SGD 0.02 momentum 0.9 poly 0.9, edge-weighted CE); shipped: seed 0, last epoch "
              "(chosen before training, no selection on validation)",
    "labelled": "ETCI 2021, both scenes (554 tiles), VV/VH bytes -> dB per scene (training/data_etci.py); "
                "water = flood | water body, Nebraska flood-only pixels ignored",
    "unlabelled": "ETCI Nebraska without labels, TerraMind S1 RTC tiles, Sen1Floods11 S1 chips without a hand label",
    "teacher": "tinyunet width 48 (3.1 M parameters) on the same labelled data; the student (width 24, "
               "0.78 M) minimises T^2 KL to its soft labels (T=2) on half labelled, half unlabelled batches "
               "plus 0.5 x the hard-label loss on the labelled half",
    "augmentation": "dB: calibration offset +-3 dB (+-1 per band), contrast +-10 %, incidence ramp +-1.5 dB, "
                    "speckle (4-12 looks) or 3x3 multi-look; crop, flips",
    "validation": "every Sen1Floods11 hand-labelled chip in ../shared/data (never trained on)",
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True)
    ap.add_argument("--results", help="JSON from scripts/default_model_results.py")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)

    import torch

    from floodkd.core.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint

    src = load_checkpoint(args.src)
    ckpt = {k: v for k, v in src.items() if k not in ("resume",)}
    for name, tensor in ckpt["state_dict"].items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise SystemExit(f"{args.src}: tensor {name} is not finite")
    ckpt["role"] = "student"
    ckpt["training"] = {**dict(src.get("training", {})), "bundled_from": os.path.relpath(args.src), **TRAINING}
    metrics = dict(src.get("metrics", {}))
    if args.results:
        with open(args.results) as fh:
            res = json.load(fh)
        metrics["validation"] = {name: {"val_water_iou": r["val"], "terramind_lulc_water_iou": r["terramind_lulc"]}
                                 for name, r in res["results"].items()}
        metrics["validation_chips"] = res["chips"]
    ckpt["metrics"] = metrics
    model_from_checkpoint(ckpt)  # must rebuild
    save_checkpoint(ckpt, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 2**20:.2f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
