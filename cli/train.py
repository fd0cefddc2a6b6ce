"""``floodkd train-teacher``, ``train-supervised`` and ``distill``.

Examples::

    floodkd train-teacher --dataset sen1floods11 --root data/sen1floods11 --out runs/teacher.pt
    floodkd train-supervised --dataset sen1floods11 --root data/sen1floods11 \\
        --labels S1OtsuLabelWeak --out runs/s1_weak.pt
    floodkd distill --dataset sen1floods11 --root data/sen1floods11 --teacher runs/teacher.pt \\
        --unlabelled-dataset pairs --unlabelled-root data/pairs --out runs/student.pt

The bundled default's recipe on ETCI 2021 in dB (small network, SAR physics augmentation)::

    floodkd train-supervised --dataset etci --root data/etci2021 --arch tinyunet --crop 128 \\
        --batch-size 16 --lr 0.02 --epochs 6 --out runs/etci_tiny.pt
    floodkd train-teacher --dataset etci --root data/etci2021 --arch tinyunet --width 32 ... --out runs/t.pt
    floodkd distill --dataset etci --root data/etci2021 --arch tinyunet --teacher runs/t.pt \\
        --temperature 2 --hard-weight 0.5 ... --out runs/student.pt

Several processes (one per GPU, or CPU processes on gloo)::

    torchrun --nproc_per_node 2 -m floodkd.cli train-teacher ...
"""
from __future__ import annotations

from ..training.data.catalog import SAR_AUGMENT_BY_DEFAULT
from ..training.data.catalog import TRAINING_DATASETS as DATASETS
from ..training.data.catalog import open_training_dataset as open_dataset
from ..training.data.catalog import resolve_splits

ARCHS = ("deeplabv3plus", "unet", "fpn", "tinyunet")
HELP = {
    "train-teacher": "train the S1+S2 teacher on hand labels",
    "train-supervised": "train the Sentinel-1-only baseline on hand or weak labels",
    "distill": "distil an S1+S2 teacher into a Sentinel-1 student",
}



def add_parser(sub, name):
    import argparse

    p = sub.add_parser(name, help=HELP[name], description=HELP[name] + ".",
                       epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=DATASETS, required=True, help="training dataset type")
    p.add_argument("--root", required=True, help="training dataset folder")
    p.add_argument("--split", help="training split (default: train; etci and pairs: all; a Sen1Floods11 copy "
                                   "without the train chips: all)")
    p.add_argument("--val-split", help="validation split, 'none' to skip (default: valid / val / none; etci: none)")
    p.add_argument("--val-root", help="validation dataset folder (default: --root)")
    p.add_argument("--chip-size", type=int, default=512, help="pairs: cut rasters into chips (default 512)")
    if name == "train-supervised":
        p.add_argument("--labels", default="hand",
                       help="Sen1Floods11 label source: hand, S1OtsuLabelWeak or S2IndexLabelWeak")
    p.add_argument("--out", required=True, help="best checkpoint PATH.pt (also PATH.last.pt, logs, curves)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=0.01, help="initial SGD learning rate (poly decay 0.9)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--crop", type=int, default=256, help="random crop side, multiple of 32; 0 for full chips")
    p.add_argument("--arch", default="deeplabv3plus", choices=ARCHS,
                   help="deeplabv3plus, unet, fpn (smp) or tinyunet (floodkd's small U-Net, the default model's)")
    p.add_argument("--encoder", default="resnet34", help="smp encoder name (paper: tu-xception65); not for tinyunet")
    p.add_argument("--width", type=int, default=24, help="tinyunet width (24: the default model; 32-48: a teacher)")
    p.add_argument("--augment", choices=("auto", "sar", "none"), default="auto",
                   help="sar: SAR physics augmentation of VV/VH dB (wind-roughened water, flooded vegetation, "
                        "calibration, speckle, incidence); auto: sar for etci, none otherwise")
    p.add_argument("--loss", choices=["edge_ce", "ce", "focal"], default="edge_ce", help="hard-label loss")
    p.add_argument("--edge-width", type=int, default=3, help="edge_ce: pixels from a class boundary")
    p.add_argument("--edge-weight", type=float, default=2.0, help="edge_ce: weight of those pixels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--max-steps-per-epoch", type=int, default=0, help="cap batches per epoch (0: all)")
    p.add_argument("--resume", action="store_true", help="continue from PATH.last.pt when it exists")
    if name == "distill":
        p.add_argument("--teacher", required=True, help="teacher checkpoint from train-teacher")
        p.add_argument("--unlabelled-dataset", choices=DATASETS, help="unlabelled S1+S2 source type")
        p.add_argument("--unlabelled-root", help="unlabelled dataset folder")
        p.add_argument("--unlabelled-images", choices=["before", "after"], default="before",
                       help="OMBRIA unlabelled source: pre-flood (before, default) or flood-time (after) "
                            "images; their masks are never used")
        p.add_argument("--unlabelled-split",
                       help="default: --split when the unlabelled dataset type is --dataset's, else all")
        p.add_argument("--temperature", type=float, default=1.0, help="distillation temperature T")
        p.add_argument("--hard-weight", type=float, default=0.0, help="weight of the hand-label loss")
        p.add_argument("--feature-distill", action="store_true", help="add HFD-Net feature distillation")
        p.add_argument("--feature-weight", type=float, default=1.0)
        p.add_argument("--feature-temperature", type=float, default=5.0)
        p.add_argument("--brightness", type=float, default=0.1, help="student input jitter")
        p.add_argument("--contrast", type=float, default=0.1, help="student input jitter")
    p.set_defaults(run=run, command_name=name)


def config_from_args(args):
    from ..training.fit.trainer import TrainConfig

    tiny = args.arch == "tinyunet"
    sar = args.augment == "sar" or (args.augment == "auto" and args.dataset in SAR_AUGMENT_BY_DEFAULT)
    fields = dict(out=args.out, arch=args.arch, encoder="none" if tiny else args.encoder, epochs=args.epochs,
                  model_kwargs={"width": args.width} if tiny else {}, sar_augment=sar,
                  batch_size=args.batch_size, lr=args.lr, momentum=args.momentum,
                  weight_decay=args.weight_decay, crop=args.crop, seed=args.seed, device=args.device,
                  num_workers=args.workers, max_steps_per_epoch=args.max_steps_per_epoch,
                  resume=args.resume, loss=args.loss, edge_width=args.edge_width,
                  edge_weight=args.edge_weight,
                  data_roots=tuple(r for r in (args.root, args.val_root, getattr(args, "unlabelled_root", None)) if r))
    if args.command_name == "distill":
        fields.update(teacher=args.teacher, temperature=args.temperature, hard_weight=args.hard_weight,
                      feature_distill=args.feature_distill, feature_weight=args.feature_weight,
                      feature_temperature=args.feature_temperature, brightness=args.brightness,
                      contrast=args.contrast)
    return TrainConfig(**fields)


def run(args) -> int:
    from ..core.errors import InputError
    from ..core.progress import Progress
    from .progress_bar import TqdmProgress
    from ..training.fit import distributed as dist_

    from ..training.fit.trainer import check_train_config, training_outputs

    name = args.command_name
    config = config_from_args(args)
    check_train_config(config)  # before any data is opened
    training_outputs(config).check({"--teacher": config.teacher or None})
    teacher = name == "train-teacher"
    chip = args.chip_size if args.dataset == "pairs" else None
    labels = getattr(args, "labels", "hand")
    args.split, val_split, notes = resolve_splits(args.dataset, args.root, args.split, args.val_split,
                                                  labels, with_s2=teacher)
    if args.val_root and val_split == "none" and not args.val_split:
        val_split = "all"  # a separate validation folder: all of it
    for note in notes:
        print(f"note: {note}")
    val = None
    if val_split != "none" or args.val_root:
        val = open_dataset(args.dataset, args.val_root or args.root, val_split, with_s2=teacher,
                           labels="hand", chip_size=chip)
    ctx = dist_.setup(config.device)
    progress = TqdmProgress() if ctx.is_main else Progress()
    try:
        if name == "distill":
            from ..training.fit.student import train_student

            labelled = open_dataset(args.dataset, args.root, args.split, with_s2=True, chip_size=chip)
            unlabelled = None
            if args.unlabelled_dataset or args.unlabelled_root:
                if not (args.unlabelled_dataset and args.unlabelled_root):
                    raise InputError("give both --unlabelled-dataset and --unlabelled-root (or neither).")
                split = args.unlabelled_split or (args.split if args.unlabelled_dataset == args.dataset else "all")
                unlabelled = open_dataset(args.unlabelled_dataset, args.unlabelled_root, split,
                                          with_s2=True, unlabelled=True, chip_size=args.chip_size,
                                          ombria_images=args.unlabelled_images)
            result = train_student(labelled, unlabelled, config, val, progress, ctx)
        else:
            from ..training.fit.teacher import train_supervised, train_teacher

            data = open_dataset(args.dataset, args.root, args.split, with_s2=teacher, labels=labels,
                                chip_size=chip)
            result = (train_teacher if teacher else train_supervised)(data, config, val, progress, ctx)
    finally:
        dist_.cleanup(ctx)
    if ctx.is_main:
        iou = result["best_water_iou"]
        print(f"wrote {result['paths']['best']} (best epoch {result['best_epoch']}"
              + (f", val water IoU {iou:.4f}" if iou == iou else "") + f"); last: {result['paths']['last']}, "
              f"curves: {result['paths']['plot']}")
    return 0
