"""Validate the default model: leave-one-source-out and a physical stress suite, one table.

Rows:
  held-out sources  each source scored by the models of the fold that never saw it
                    (runs/default/no-<source>/): ETCI 2021 scenes, the Sen1Floods11
                    hand-labelled chips, the TerraMind tiles against land-cover water
                    (weak labels)
  stress cases      the Sen1Floods11 hand chips perturbed (training/evaluation/stress.py),
                    scored by the no-sen1floods11 models
Columns: otsu, threshold (VH < -23.25 dB), the supervised and distilled students of the
held-out fold (mean ± sd over seeds), the shipped default (trained on every source, so
not held out: marked), and any --extra NAME=PATH model.
Metric: pooled water IoU (all dry: share of pixels left dry). The VH rule
(training/evaluation/validation.py): where the fixed threshold reaches water IoU >= 0.6
(water clear in VH), pooled or on a chip, a model may not be more than 0.02 below it.

  OMP_NUM_THREADS=1 .venv/bin/python scripts/validate_default_model.py --json runs/default/validation.json
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
DEFAULT = os.path.join(ROOT, "resources", "models", "floodkd_s1_student.pt")


def runs(folder, kind):
    """The last-epoch checkpoints of finished runs (a run still training is left out)."""
    import torch

    done = []
    for path in sorted(glob.glob(os.path.join(folder, f"{kind}_s[0-9].last.pt"))):
        ck = torch.load(path, map_location="cpu", weights_only=True)
        if ck.get("epoch") == ck.get("training", {}).get("epochs"):
            done.append(path)
    return done


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", default=os.path.join(ROOT, "runs", "default"))
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--default", default=DEFAULT, help="the shipped model (trained on every source)")
    ap.add_argument("--extra", nargs="*", default=[], metavar="NAME=PATH", help="more models (not held out)")
    ap.add_argument("--student-tag", default="", help="score student<TAG>_s*.last.pt (a distillation variant)")
    ap.add_argument("--json")
    ap.add_argument("--cache", help="JSON file keeping each model's counts per case between runs "
                                    "(default: RUNS/validation_cache.json; 'none' to score everything again)")
    args = ap.parse_args(argv)

    from floodkd.training.data.etci import Etci2021
    from floodkd.training.data.sen1floods11 import Sen1Floods11
    from floodkd.training.data.terramind import TerraMindTiles
    from floodkd.training.evaluation.stress import stress_cases
    from floodkd.training.evaluation.validation import (CLEAR_IOU, TOLERANCE, Methods, markdown_table,
                                                         rule_violations, score_case)

    s1f = Sen1Floods11(os.path.join(args.data, "sen1floods11"), "all", label_source="hand")
    sources = {"etci": ("ETCI 2021 (2 scenes)", Etci2021(os.path.join(args.data, "etci2021"))),
               "sen1floods11": ("Sen1Floods11 hand chips", s1f),
               "terramind": ("TerraMind, LULC water (weak)", TerraMindTiles(
                   os.path.join(args.data, "terramind_examples"), label_source="lulc"))}
    extra = dict(e.split("=", 1) for e in args.extra)
    fixed = {"otsu": "otsu", "threshold": "threshold", "shipped default": [args.default], **{k: [v] for k, v in extra.items()}}
    models = ["supervised", "student", "shipped default", *extra]
    columns = ["otsu", "threshold", *models]

    def fold_methods(source):
        folder = os.path.join(args.runs, "no-" + source)
        return Methods({**fixed, "supervised": runs(folder, "supervised"),
                        "student": runs(folder, "student" + args.student_tag)})

    cache_path = None if args.cache == "none" else (args.cache or os.path.join(args.runs, "validation_cache.json"))
    cache = {}
    if cache_path and os.path.isfile(cache_path):
        with open(cache_path) as fh:
            cache = json.load(fh)

    def save_cache():
        if cache_path and os.path.isdir(os.path.dirname(os.path.abspath(cache_path))):
            with open(cache_path + ".tmp", "w") as fh:
                json.dump(cache, fh)
            os.replace(cache_path + ".tmp", cache_path)

    rows, violations, result = [], [], {}
    for key, (label, dataset) in sources.items():
        methods = fold_methods(key)
        scores = score_case(dataset, methods, label, cache)
        save_cache()
        rows.append((f"held out: {label}", scores, ""))
        violations += rule_violations(label, scores, models)
        result[label] = scores
        print(f"[scored] {label}", file=sys.stderr, flush=True)
    methods = fold_methods("sen1floods11")
    for case in stress_cases(s1f):
        scores = score_case(case, methods, case.name, cache)
        save_cache()
        rows.append((f"stress: {case.name}", scores, f" ({len(case)} chips)" if len(case) != len(s1f) else ""))
        violations += rule_violations(case.name, scores, models)
        result["stress: " + case.name] = scores
        print(f"[scored] stress {case.name}", file=sys.stderr, flush=True)

    n = {m: len(methods.methods.get(m, [])) for m in ("supervised", "student")}
    print(f"Models: supervised and student = seeds of the fold that left the row's source out "
          f"(runs: {args.runs}; Sen1Floods11 fold: {n['supervised']} supervised, {n['student']} student seeds); "
          f"shipped default = {os.path.relpath(args.default, ROOT)} (trained on every source: NOT held out).\n")
    print(markdown_table(rows, columns))
    print(f"\nVH rule: where the fixed threshold reaches >= {CLEAR_IOU} (water clear in VH), pooled or per chip, "
          f"a model may not score more than {TOLERANCE} below it.")
    if violations:
        for v in violations:
            print(f"  FAIL {v['model']}: {v['case']} / {v['where']}: {v['model_score']:.3f} < threshold "
                  f"{v['threshold']:.3f} - {TOLERANCE}")
    else:
        print("  every model passes.")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cases": result, "violations": violations, "clear_iou": CLEAR_IOU, "tolerance": TOLERANCE},
                      fh, indent=1)
    return 1 if any(v["model"] == "shipped default" for v in violations) else 0


if __name__ == "__main__":
    sys.exit(main())
