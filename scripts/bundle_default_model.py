"""Bundle a trained student as the default model (resources/models/floodkd_s1_student.pt).

Copies the checkpoint without its optimiser/resume state (float32 weights), records
the validation figures from scripts/validate_default_model.py --json, checks that
the weights are finite, and writes the .onnx twin beside it (the .pt's name with
.onnx). The .onnx is what segment uses by default wherever onnxruntime is
installed (core/predict/model_choice.py), so the bundled model runs without
PyTorch. It is `floodkd export-onnx` of the checkpoint with the weights stored
as float16 and a Cast to float32 in front of the graph (computation stays
float32; the export folds batch norm into the convolutions, which rounds those
to float16 at ~5e-4 relative), which halves the file. The checksum
(core/models/onnx_weights.py: graph, weights and metadata) is recomputed after that.

  .venv/bin/python scripts/bundle_default_model.py --src runs/default/all/supervised_s0.last.pt \
      --results runs/default/validation.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "resources", "models", "floodkd_s1_student.pt")

TRAINING = {
    "recipe": "scripts/train_default_model.py --fold all (6 epochs x 34 steps, batch 16 of 128x128 crops, SGD 0.02 "
              "momentum 0.9 poly 0.9, edge-weighted CE); shipped: seed 0, last epoch of the recipe the rule "
              "chose (fixed before training; resources/models/floodkd_s1_student.md)",
    "labelled": "ETCI 2021 both scenes (554 tiles, bytes -> dB per scene, training/data/etci.py), every "
                "Sen1Floods11 hand-labelled chip in ../shared/data (40 crops each per pass), TerraMind S1 RTC "
                "tiles with land-cover water as weak labels (8 crops each per pass)",
    "unlabelled": "student only: Sen1Floods11 chips without a hand label, TerraMind S1 RTC, Hurricane Harvey",
    "augmentation": "training/data/db_augment.SAR_PHYSICS: wind-roughened water (VV over water +1..10 dB times a "
                    "smooth field, VH +0..30 % of that, p 0.5), calm water (VV -0..3 dB, p 0.1), flooded "
                    "vegetation (VV +3..8, VH +1..4 dB in a blob of the water, p 0.2); calibration +-3 dB "
                    "(+-1 per band), contrast +-10 %, incidence ramp +-1.5 dB, speckle 4-12 looks or 3x3 "
                    "multi-look; crop, flips",
    "validation": "scripts/validate_default_model.py: leave-one-source-out folds and the stress suite",
}


def store_float16(proto) -> int:
    """Float32 initializers become float16 + Cast (in place); returns how many."""
    from onnx import TensorProto, helper, numpy_helper

    casts = []
    for init in proto.graph.initializer:
        if init.data_type != TensorProto.FLOAT or not init.dims:  # scalars and shapes stay as they are
            continue
        values = numpy_helper.to_array(init)
        if np.abs(values).max(initial=0) >= 65504:  # would overflow float16
            continue
        name = init.name
        init.CopyFrom(numpy_helper.from_array(values.astype(np.float16), f"{name}__fp16"))
        casts.append(helper.make_node("Cast", [f"{name}__fp16"], [name], to=TensorProto.FLOAT,
                                      name=f"{name}__to_float"))
    nodes = list(proto.graph.node)
    del proto.graph.node[:]
    proto.graph.node.extend(casts + nodes)
    return len(casts)


def export_half(pt: str, out: str) -> None:
    import onnx

    from floodkd.core.models.onnx_export import export_onnx, sign_onnx

    folder = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(prefix=".floodkd-", suffix=".onnx", dir=folder)
    os.close(fd)
    try:
        export_onnx(pt, tmp)
        proto = onnx.load(tmp)
        n = store_float16(proto)
        onnx.checker.check_model(proto)
        sign_onnx(proto)  # the checksum of graph, weights and metadata, after the float16 rewrite
        onnx.save(proto, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"wrote {out} ({os.path.getsize(out) / 2**20:.1f} MiB, {n} weight tensors as float16)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True)
    ap.add_argument("--results", help="JSON from scripts/validate_default_model.py --json")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)

    import torch

    from floodkd.core.models.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint

    src = load_checkpoint(args.src)
    ckpt = {k: v for k, v in src.items() if k not in ("resume",)}
    for name, tensor in ckpt["state_dict"].items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise SystemExit(f"{args.src}: tensor {name} is not finite")
    ckpt["training"] = {**dict(src.get("training", {})), "bundled_from": os.path.relpath(args.src), **TRAINING}
    metrics = dict(src.get("metrics", {}))
    if args.results:
        with open(args.results) as fh:
            res = json.load(fh)
        metrics["validation"] = {case: {m: round(v["score"], 4) for m, v in scores.items()}
                                 for case, scores in res["cases"].items()}
        metrics["validation_rule"] = {"clear_iou": res["clear_iou"], "tolerance": res["tolerance"],
                                      "violations": res["violations"]}
    ckpt["metrics"] = metrics
    model_from_checkpoint(ckpt)  # must rebuild
    save_checkpoint(ckpt, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 2**20:.2f} MiB)")
    export_half(args.out, os.path.splitext(args.out)[0] + ".onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
