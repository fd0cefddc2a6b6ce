"""Train the bundled default model and its baselines (resumable; CPU is enough).

Runs, under OUT (default runs/default):
  supervised_s{seed}.pt   the student network (tinyunet width 24) on hand labels only
  teacher_s0.pt           a 4x larger Sentinel-1 network (tinyunet width 48), hand labels
  student_s{seed}.pt      the student network distilled from the teacher
Each run writes *.last.pt after every epoch and resumes from it when rerun.

Data (../shared/data, read only):
  labelled training: ETCI 2021, both scenes, bytes -> dB per scene (training/data/etci.py)
  unlabelled (student's second half): ETCI Nebraska without its noisy labels, the TerraMind
      S1 RTC tiles, and the Sen1Floods11 S1 chips that have no hand label here
  validation: every Sen1Floods11 chip with a hand label (never trained on, not even unlabelled)
Validation is logged per epoch for information; the checkpoint used is the LAST epoch
(no selection on the validation chips).

  .venv/bin/python scripts/train_default_model.py --stage all --seeds 0 1 2
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))


def datasets(data_root, seed):
    from floodkd.training.data.etci import S1_DB_BANDS, Etci2021
    from floodkd.training.data.sen1floods11 import Sen1Floods11
    from floodkd.training.data.terramind import TerraMindTiles
    from floodkd.training.data.datasets import ConcatChips
    from floodkd.training.data.db_augment import DbSamples

    etci_root = os.path.join(data_root, "etci2021")
    s1f_root = os.path.join(data_root, "sen1floods11")
    val = Sen1Floods11(s1f_root, "all", label_source="hand")
    unlabelled_s1f = Sen1Floods11(s1f_root, "all", label_source="none")
    unlabelled_s1f.ids = [c for c in unlabelled_s1f.ids if c not in set(val.ids)]
    labelled = DbSamples(Etci2021(etci_root), S1_DB_BANDS, seed=seed, crop=128)
    unl_parts = [Etci2021(etci_root, [s for s in os.listdir(etci_root) if s.startswith("nebraska")], labelled=False),
                 TerraMindTiles(os.path.join(data_root, "terramind_examples"))]
    if unlabelled_s1f.ids:
        unl_parts.append(unlabelled_s1f)
    unlabelled = ConcatChips([DbSamples(p, S1_DB_BANDS, seed=seed + 100 + k, crop=128) for k, p in enumerate(unl_parts)],
                             name="unlabelled(" + "+".join(p.name for p in unl_parts) + ")")
    return labelled, unlabelled, DbSamples(val, S1_DB_BANDS, train=False), S1_DB_BANDS


def config(out, seed, width, args, **extra):
    from floodkd.training.fit.trainer import TrainConfig

    return TrainConfig(out=out, arch="tinyunet", encoder="none", model_kwargs={"width": width},
                       epochs=args.epochs, max_steps_per_epoch=args.steps, batch_size=16, eval_batch_size=4,
                       crop=128, lr=args.lr, seed=seed, resume=True, brightness=0.0, contrast=0.0, **extra)


def run(name, fn, out_dir):
    path = os.path.join(out_dir, name + ".pt")
    if os.path.isfile(path) and os.path.isfile(path.replace(".pt", ".last.pt")):
        import torch

        ck = torch.load(path.replace(".pt", ".last.pt"), map_location="cpu", weights_only=True)
        if ck.get("epoch") == ck.get("training", {}).get("epochs"):
            print(f"[skip] {name}: finished")
            return
    t0 = time.time()
    fn(path)
    print(f"[done] {name} in {time.time() - t0:.0f} s", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", choices=("supervised", "teacher", "student", "all"), default="all")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", default="runs/default")
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--steps", type=int, default=34, help="steps per epoch at most (batch 16 of 128x128 crops; 34 = one pass over the ETCI tiles)")
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--hard-weight", type=float, default=0.5)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    from floodkd.core.progress import Progress
    from floodkd.training.fit.student import train_student
    from floodkd.training.fit.teacher import train_supervised

    class Log(Progress):
        def info(self, message):
            print("   ", message, flush=True)

    stages = ("teacher", "supervised", "student") if args.stage == "all" else (args.stage,)
    # the teacher first, then seed by seed the supervised baseline and the student
    plan = [("teacher", 0)] if "teacher" in stages else []
    plan += [(stage, seed) for seed in args.seeds for stage in stages if stage != "teacher"]
    for stage, seed in plan:
        labelled, unlabelled, val, _ = datasets(args.data, seed)
        if stage == "supervised":
            run(f"supervised_s{seed}", lambda p: train_supervised(labelled, config(p, seed, 24, args), val, Log()),
                args.out)
        elif stage == "teacher":
            run("teacher_s0", lambda p: train_supervised(labelled, config(p, seed, 48, args), val, Log()), args.out)
        else:
            teacher = os.path.join(args.out, "teacher_s0.last.pt")
            cfg = config(os.path.join(args.out, f"student_s{seed}.pt"), seed, 24, args, teacher=teacher,
                         temperature=args.temperature, hard_weight=args.hard_weight)
            run(f"student_s{seed}", lambda p: train_student(labelled, unlabelled, cfg, val, Log()), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
