"""Train the bundled default model, its baselines and the leave-one-source-out folds (resumable; CPU).

Runs, under OUT (default runs/default), for each FOLD ("all", or "no-<source>"
with that source left out of everything, labelled and unlabelled):
  <fold>/supervised_s{seed}.pt   tinyunet width 24 on the labels only
  <fold>/teacher_s0.pt           tinyunet width 32 (1.8x the student's parameters) on the same labels
                                 (a Sentinel-1 teacher; width 48 did not fit this CPU budget)
  <fold>/student_s{seed}.pt      width 24 distilled from the teacher on labelled + unlabelled crops
Each run writes *.last.pt after every epoch and resumes from it when rerun. The
checkpoint used is always the LAST epoch (no selection on validation).

Sources (../shared/data, read only):
  etci         ETCI 2021, both scenes, bytes -> dB per scene (training/data/etci.py), labelled
  sen1floods11 every hand-labelled Sen1Floods11 chip (labelled, 40 crops each per pass) and
               its chips without a hand label (unlabelled)
  terramind    TerraMind S1 RTC tiles with land-cover water as a weak label (labelled, 8 crops
               each per pass; also the unlabelled view for the student)
  harvey       the Hurricane Harvey chip (unlabelled, student only)
Augmentation: training/data/db_augment.SAR_PHYSICS (calibration, incidence, speckle,
multi-look, and the water physics: wind-roughened and calm water, flooded vegetation).

Selection rule, fixed before any of these runs (see resources/models/floodkd_s1_student.md):
  recipe = student if its mean over seeds 0-2 of the pooled water IoU on the Sen1Floods11
  hand chips in fold no-sen1floods11 exceeds the supervised mean by more than the larger
  of the two seed standard deviations, else supervised (the simpler); shipped = seed 0,
  last epoch, of that recipe in fold "all".

  OMP_NUM_THREADS=1 .venv/bin/python scripts/train_default_model.py --fold all --stage supervised --seeds 0 1 2
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
SOURCES = ("etci", "sen1floods11", "terramind")
FOLDS = ("all",) + tuple("no-" + s for s in SOURCES)
REPEAT = {"sen1floods11": 40, "terramind": 8, "unlabelled_s1f": 20, "harvey": 20}


def datasets(data_root, seed, fold, crop=128):
    """(labelled, unlabelled) training data of ``fold`` with the physics augmentation."""
    from floodkd.training.data.datasets import ConcatChips
    from floodkd.training.data.db_augment import SAR_PHYSICS, DbSamples
    from floodkd.training.data.etci import S1_DB_BANDS, Etci2021
    from floodkd.training.data.s1_files import S1DbFiles
    from floodkd.training.data.sen1floods11 import Sen1Floods11
    from floodkd.training.data.terramind import TerraMindTiles

    out = fold[3:] if fold.startswith("no-") else None
    s1f_root = os.path.join(data_root, "sen1floods11")
    lab, unl = [], []
    if out != "etci":
        lab.append((Etci2021(os.path.join(data_root, "etci2021")), 1))
    if out != "sen1floods11":
        hand = Sen1Floods11(s1f_root, "all", label_source="hand")
        lab.append((hand, REPEAT["sen1floods11"]))
        rest = Sen1Floods11(s1f_root, "all", label_source="none")
        rest.ids = [c for c in rest.ids if c not in set(hand.ids)]
        if rest.ids:
            unl.append((rest, REPEAT["unlabelled_s1f"]))
    if out != "terramind":
        tm = os.path.join(data_root, "terramind_examples")
        lab.append((TerraMindTiles(tm, label_source="lulc"), REPEAT["terramind"]))
        unl.append((TerraMindTiles(tm), REPEAT["terramind"]))
    harvey = os.path.join(data_root, "harvey2017", "harvey_crop.tif")
    if os.path.isfile(harvey):
        unl.append((S1DbFiles([harvey], "harvey2017"), REPEAT["harvey"]))

    def wrap(parts, offset):
        return ConcatChips([DbSamples(d, S1_DB_BANDS, seed=seed + offset + k, crop=crop, config=SAR_PHYSICS,
                                      repeat=r) for k, (d, r) in enumerate(parts)],
                           name="+".join(d.name for d, _ in parts))

    return wrap(lab, 0), (wrap(unl, 100) if unl else None)


def config(out, seed, width, args, **extra):
    from floodkd.training.fit.trainer import TrainConfig

    return TrainConfig(out=out, arch="tinyunet", encoder="none", model_kwargs={"width": width},
                       epochs=args.epochs, max_steps_per_epoch=args.steps, batch_size=16, eval_batch_size=4,
                       crop=128, lr=args.lr, seed=seed, resume=True, brightness=0.0, contrast=0.0, **extra)


def finished(path):
    import torch

    last = path.replace(".pt", ".last.pt")
    if not (os.path.isfile(path) and os.path.isfile(last)):
        return False
    ck = torch.load(last, map_location="cpu", weights_only=True)
    return ck.get("epoch") == ck.get("training", {}).get("epochs")


def run(name, fn, out_dir):
    path = os.path.join(out_dir, name + ".pt")
    if finished(path):
        print(f"[skip] {out_dir}/{name}: finished", flush=True)
        return
    t0 = time.time()
    fn(path)
    print(f"[done] {out_dir}/{name} in {time.time() - t0:.0f} s", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", choices=("supervised", "teacher", "student"), nargs="+",
                    default=["supervised", "teacher", "student"])
    ap.add_argument("--fold", choices=FOLDS, nargs="+", default=["all"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", default="runs/default")
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--steps", type=int, default=34, help="steps per epoch (batch 16 of 128x128 crops)")
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--hard-weight", type=float, default=0.5)
    ap.add_argument("--feature-distill", action="store_true", help="add HFD feature distillation (student)")
    ap.add_argument("--teacher-width", type=int, default=32)
    ap.add_argument("--tag", default="", help="suffix of the student's run name (variants)")
    args = ap.parse_args(argv)

    from floodkd.core.progress import Progress
    from floodkd.training.fit.student import train_student
    from floodkd.training.fit.teacher import train_supervised

    class Log(Progress):
        def info(self, message):
            print("   ", message, flush=True)

    for fold in args.fold:
        out = os.path.join(args.out, fold)
        os.makedirs(out, exist_ok=True)
        # the teacher first (students need it), then seed by seed
        plan = [("teacher", 0)] if "teacher" in args.stage else []
        plan += [(s, seed) for seed in args.seeds for s in args.stage if s != "teacher"]
        for stage, seed in plan:
            labelled, unlabelled = datasets(args.data, seed, fold)
            if stage in ("supervised", "teacher"):
                width = args.teacher_width if stage == "teacher" else 24
                run(f"{stage}_s{seed}", lambda p: train_supervised(labelled, config(p, seed, width, args), None,
                                                                   Log()), out)
            else:
                if not finished(os.path.join(out, "teacher_s0.pt")):
                    raise SystemExit(f"the teacher of fold {fold} has not finished: run --stage teacher first")
                cfg = config(os.path.join(out, f"student{args.tag}_s{seed}.pt"), seed, 24, args,
                             teacher=os.path.join(out, "teacher_s0.last.pt"), temperature=args.temperature,
                             hard_weight=args.hard_weight, feature_distill=args.feature_distill)
                run(f"student{args.tag}_s{seed}", lambda p: train_student(labelled, unlabelled, cfg, None, Log()),
                    out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
