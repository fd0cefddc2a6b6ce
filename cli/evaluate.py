"""``floodkd evaluate``: pooled water IoU of a model or Otsu on a labelled dataset."""
from __future__ import annotations

import json
import math

from ..training.data.catalog import EVALUATION_DATASETS as DATASETS
from ..training.data.catalog import open_evaluation_dataset
from ..training.evaluation.scoring import model_needs_s2


def add_parser(sub, name):
    p = sub.add_parser(name, help="score a checkpoint or Otsu on a labelled dataset (pooled water IoU)",
                       description="Confusion counts are pooled over all valid pixels of the split, "
                                   "then water IoU, mIoU, F1 and accuracy are computed from the totals.")
    p.add_argument("--dataset", required=True, choices=DATASETS,
                   help="layout of --root: Sen1Floods11 native, OMBRIA, or a folder of S1/S2/label GeoTIFFs")
    p.add_argument("--root", required=True, help="dataset folder")
    p.add_argument("--split", default="all",
                   help="sen1floods11: train, valid, test, bolivia, all; ombria: train, val, all "
                        "(patch numbers divisible by 5 are val); etci2021: all or a scene folder name; "
                        "terramind (LULC water as a weak label): all; pairs: all")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", help="floodkd checkpoint (.pt); S1+S2 teachers read S2 automatically; "
                                       "neither --model nor --method: the bundled default model, as in segment")
    which.add_argument("--method", choices=["otsu", "threshold"],
                       help="a baseline instead of a model: per-chip Otsu on VH, or the fixed VH dB threshold")
    p.add_argument("--label-source", default="hand",
                   help="sen1floods11 labels: hand, S1OtsuLabelWeak or S2IndexLabelWeak (default hand)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--threshold", type=float, default=0.5, help="water-probability cut for a model")
    p.add_argument("--csv", help="write per-chip metrics here")
    p.add_argument("--panel", help="write a PNG panel (input / label / prediction) here")
    p.add_argument("--panel-ids", nargs="+", help="chip ids for the panel (default: the first four)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(run=run)




def _json_safe(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def run(args) -> int:
    from ..core.progress import Progress
    from .progress_bar import TqdmProgress
    from ..training.evaluation.scoring import evaluate

    if not args.model and not args.method:
        from ..core.errors import InputError
        from ..core.predict.model_choice import bundled_model, why_no_bundled_model

        args.model = bundled_model()  # what segment uses for an empty MODEL (.onnx first)
        if args.model is None:
            raise InputError(f"no --model or --method given and {why_no_bundled_model()}; "
                             "give --model PATH or --method otsu|threshold.")
    with_s2 = bool(args.model) and model_needs_s2(args.model)
    dataset = open_evaluation_dataset(args.dataset, args.root, args.split, with_s2, args.label_source)
    progress = Progress() if args.json else TqdmProgress()
    result = evaluate(dataset, args.model or args.method, device=args.device, threshold=args.threshold,
                      csv_path=args.csv, panel_path=args.panel, panel_ids=args.panel_ids, progress=progress,
                      protect=(args.root,))
    result.update(split=args.split, root=args.root, csv=args.csv, panel=args.panel,
                  missing_chips=len(getattr(dataset, "missing", [])))
    if args.json:
        print(json.dumps({k: _json_safe(v) for k, v in result.items()}))
    else:
        print(f"{args.dataset} {args.split} ({result['n_chips']} chips, {result['valid_pixels']} valid px), "
              f"{result['method']}: water IoU {result['water_iou']:.4f}, mIoU {result['miou']:.4f}, "
              f"F1 {result['f1']:.4f}, accuracy {result['accuracy']:.4f}")
        if result["missing_chips"]:
            print(f"note: {result['missing_chips']} chip(s) listed in the split are not on disk and were skipped")
    return 0
