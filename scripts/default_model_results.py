"""Score the runs of scripts/train_default_model.py and the baselines; print a Markdown table.

Validation: every Sen1Floods11 chip with a hand label in ../shared/data (never
trained on), pooled water IoU; per chip too. TerraMind tiles against their
land-cover water (a weak, yearly label; their S1 was unlabelled student input).

  .venv/bin/python scripts/default_model_results.py --runs runs/default [--json out.json]
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))


def score(dataset, predictor):
    from floodkd.training.evaluation.scoring import evaluate

    r = evaluate(dataset, predictor, device="cpu")
    return r["water_iou"]


def per_chip(dataset, predictor, csv_path):
    import csv

    from floodkd.training.evaluation.scoring import evaluate

    evaluate(dataset, predictor, device="cpu", csv_path=csv_path)
    with open(csv_path) as fh:
        return {row["id"]: float(row["water_iou"]) for row in csv.DictReader(fh)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", default="runs/default")
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--json")
    args = ap.parse_args(argv)

    from floodkd.training.data.sen1floods11 import Sen1Floods11
    from floodkd.training.data.terramind import TerraMindTiles

    val = Sen1Floods11(os.path.join(args.data, "sen1floods11"), "all", label_source="hand")
    tm = TerraMindTiles(os.path.join(args.data, "terramind_examples"), label_source="lulc")
    rows = {"Otsu (per chip, VH)": ["otsu"], "fixed VH threshold (-23.25 dB)": ["threshold"]}
    for kind in ("supervised", "student", "teacher"):
        found = sorted(glob.glob(os.path.join(args.runs, f"{kind}_s*.last.pt")))
        if found:
            rows[kind] = found
    out, chips = {}, {}
    tmp = os.path.join(args.runs, "chips.csv")
    for name, predictors in rows.items():
        vals = [score(val, p) for p in predictors]
        tms = [score(tm, p) for p in predictors]
        chip_scores = [per_chip(val, p, tmp) for p in predictors]
        chips[name] = {c: statistics.mean(s[c] for s in chip_scores) for c in chip_scores[0]}
        out[name] = {"val": vals, "terramind_lulc": tms, "runs": predictors}
    ids = list(next(iter(chips.values())))
    print(f"validation: {len(val)} Sen1Floods11 hand-labelled chips ({', '.join(ids)}), pooled water IoU\n")
    print("| method | seeds | val water IoU (mean ± sd) | " + " | ".join(ids) + " | TerraMind LULC water IoU |")
    print("|---|---|---|" + "---|" * len(ids) + "---|")
    for name, r in out.items():
        v, t = r["val"], r["terramind_lulc"]
        sd = f" ± {statistics.stdev(v):.3f}" if len(v) > 1 else ""
        tsd = f" ± {statistics.stdev(t):.3f}" if len(t) > 1 else ""
        print(f"| {name} | {len(v) if len(v) > 1 or name in ('teacher',) else '-'} | {statistics.mean(v):.3f}{sd} | "
              + " | ".join(f"{chips[name][c]:.3f}" for c in ids) + f" | {statistics.mean(t):.3f}{tsd} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": out, "chips": chips}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
