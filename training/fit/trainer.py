"""The loop shared by the teacher, supervised and student trainers.

A *task* (training/fit/teacher.py, training/fit/student.py) supplies the model, the
batches of an epoch and the loss of a batch; :func:`fit` does the rest: SGD
with momentum and polynomial LR decay, seeding, DDP, per-batch progress and
cancel, per-epoch validation water IoU, best/last checkpoints, logs and curves.

Reproducibility: weights are initialised from ``seed``; at the start of each
epoch the global torch/numpy/python RNGs are reseeded from
``(seed, epoch, rank)``, the sampler from ``(seed, epoch)`` and augmentation
from ``(seed, epoch, index)``. With the model, optimiser state and step saved
at the end of every epoch, a resumed run continues exactly as an
uninterrupted one would.
"""
from __future__ import annotations

import os
import random
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ...core.models.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint
from ...core.errors import Cancelled, CheckpointError, InputError
from ...core.progress import Progress
from . import distributed as dist_
from ..evaluation.metrics import Confusion
from .runlog import discard, plot_curves, run_paths, staged_paths, write_logs


@dataclass
class TrainConfig:
    """Everything a training run depends on (recorded in its checkpoints).

    Optimiser defaults follow the paper (SGD, momentum 0.9, poly decay 0.9);
    the other defaults are floodkd's.
    """

    out: str = "floodkd_model.pt"
    arch: str = "deeplabv3plus"
    encoder: str = "resnet34"
    model_kwargs: dict = field(default_factory=dict)
    epochs: int = 20
    batch_size: int = 8
    eval_batch_size: int = 0          # 0: same as batch_size
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    poly_power: float = 0.9
    crop: int = 256                   # 0: full chips
    flips: bool = True
    seed: int = 0
    device: str = "auto"
    num_workers: int = 0
    max_steps_per_epoch: int = 0      # 0: the whole training set
    resume: bool = False
    loss: str = "edge_ce"             # edge_ce, ce or focal (hard-label loss)
    edge_width: int = 3               # k: pixels from a class boundary
    edge_weight: float = 2.0          # w: weight of those pixels
    focal_gamma: float = 2.0
    # distillation (student only)
    teacher: str = ""
    temperature: float = 1.0
    hard_weight: float = 0.0
    feature_distill: bool = False
    feature_weight: float = 1.0
    feature_temperature: float = 5.0
    feature_level: int = -1           # index into model.encoder(x)'s list
    brightness: float = 0.1
    contrast: float = 0.1
    sar_augment: bool = False         # SAR physics augmentation of dB input (training/data/db_augment.SAR_PHYSICS)
    # dataset folders: no output may be one of their files (set by the front ends)
    data_roots: tuple = ()


def check_train_config(config: TrainConfig) -> None:
    """Refuse settings that cannot train (one place for the CLI, QGIS and the worker), before any work."""
    import math

    def number(name, value, low, low_ok=True, integer=False):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        ok = ok and (value >= low if low_ok else value > low) and (not integer or float(value).is_integer())
        if not ok:
            kind = "a whole number" if integer else "a finite number"
            raise InputError(f"{name} must be {kind} {'>=' if low_ok else '>'} {low:g}, got {value}")

    number("--epochs (EPOCHS)", config.epochs, 1, integer=True)
    number("--batch-size (BATCH_SIZE)", config.batch_size, 1, integer=True)
    number("--lr (LR)", config.lr, 0, low_ok=False)
    number("--momentum", config.momentum, 0)
    number("--weight-decay", config.weight_decay, 0)
    number("--crop (CROP)", config.crop, 0, integer=True)
    number("--max-steps-per-epoch (MAX_STEPS)", config.max_steps_per_epoch, 0, integer=True)
    number("--workers", config.num_workers, 0, integer=True)
    number("--edge-weight", config.edge_weight, 0)
    number("--temperature (TEMPERATURE)", config.temperature, 0, low_ok=False)
    for name in ("hard_weight", "feature_weight", "brightness", "contrast"):
        number(f"--{name.replace('_', '-')}", getattr(config, name), 0)
    if not str(config.out or "").strip():
        raise InputError("--out (OUTPUT) is empty; give the checkpoint path, e.g. runs/model.pt")


def training_outputs(config: TrainConfig):
    """The run's destinations (checkpoint, .last.pt, logs, curves) as core Files, checked like segment's."""
    from ...core.io.destinations import Files

    labels = {"best": "--out (OUTPUT)", "last": "its .last.pt", "json": "its JSON log", "csv": "its CSV log",
              "plot": "its curves PNG"}
    final, partial = run_paths(config.out), staged_paths(config.out)  # epochs go to the partial names first
    named = [(labels[k], final[k], ()) for k in labels] + [(f"{labels[k]} (partial)", partial[k], ()) for k in labels]
    return Files(tuple(named), protect=tuple(r for r in config.data_roots if r))


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def derived_seed(*parts) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def poly_lr(base: float, step: int, total: int, power: float = 0.9) -> float:
    """Polynomial decay: ``base * (1 - step / total) ** power``."""
    return base * max(0.0, 1.0 - step / max(1, total)) ** power


def check_crop(config: TrainConfig) -> None:
    from ...core.models.architectures import required_multiple

    m = required_multiple(config.arch, config.model_kwargs)
    if config.crop and config.crop % m:
        raise InputError(f"crop {config.crop} is not a multiple of {m} (the {config.arch} output stride); "
                         f"use e.g. {max(m, config.crop // m * m)}")


def make_loader(dataset, batch_size, ctx, seed, epoch=0, shuffle=True, workers=0):
    """A DataLoader over this process's share, shuffled from ``(seed, epoch)``."""
    from torch.utils.data import DataLoader, DistributedSampler

    sampler = DistributedSampler(dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=shuffle,
                                 seed=seed, drop_last=ctx.distributed)
    sampler.set_epoch(epoch)
    drop = shuffle and len(sampler) >= batch_size
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=drop,
                      num_workers=workers)


def to_device(batch: dict, device: str) -> dict:
    return {k: (v.to(device, non_blocking=True) if hasattr(v, "to") else v) for k, v in batch.items()}


def validate(model, dataset, input_fn, config, ctx, check_cancelled=None):
    """Pooled confusion of ``argmax(model(input_fn(batch)))`` over ``dataset``.

    Each process evaluates its shard; counts are summed over processes.
    ``check_cancelled`` (no arguments) is called once per batch and may raise.
    """
    import torch
    from torch.utils.data import DataLoader, Subset

    from ...core.models.architectures import required_multiple

    conf = Confusion()
    if dataset is None:
        return conf
    mult = required_multiple(config.arch, config.model_kwargs)
    loader = DataLoader(Subset(dataset, dist_.shard(range(len(dataset)), ctx)),
                        batch_size=config.eval_batch_size or config.batch_size)
    model.eval()
    with torch.no_grad():
        for batch in loader:
            if check_cancelled is not None:
                check_cancelled()
            batch = to_device(batch, ctx.device)
            x = input_fn(batch)
            h, w = x.shape[-2:]
            ph, pw = (-h) % mult, (-w) % mult
            if ph or pw:
                x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="reflect")
            pred = model(x)[:, :, :h, :w].argmax(1)
            conf.update(pred.cpu().numpy(), batch["label"].cpu().numpy())
    tp, fp, fn, tn = dist_.all_sum(ctx, [conf.tp, conf.fp, conf.fn, conf.tn])
    conf.tp, conf.fp, conf.fn, conf.tn = int(tp), int(fp), int(fn), int(tn)
    return conf


def _checkpoint(task, config, model, metrics, extra):
    training = {**asdict(config), **task.describe()}
    return make_checkpoint(model, config.arch, config.encoder, task.bands, config.model_kwargs,
                           role=task.role, training=training, metrics=metrics, extra=extra,
                           in_channels=task.in_channels, input_transform=task.input_transform)


def _resume(path, task, config, model, optimizer, progress):
    ckpt = load_checkpoint(path, role="resume")
    state = ckpt.get("resume")
    if not state:
        raise CheckpointError(f"{path} holds no resume state (optimiser, epoch); it is a best/final "
                              f"model. Resume from the .last.pt file next to it, or start without --resume.")
    for key in ("arch", "encoder"):
        if ckpt[key] != getattr(config, key):
            raise CheckpointError(f"cannot resume from {path}: it is a {ckpt[key]} {key}, this run asks "
                                  f"for {getattr(config, key)}. Use the same --{key} or another --out.")
    if ckpt.get("role") != task.role:
        raise CheckpointError(f"cannot resume from {path}: it is a {ckpt.get('role')}, this run trains "
                              f"a {task.role}. Use another --out.")
    model.load_state_dict(ckpt["state_dict"])
    optimizer.load_state_dict(state["optimizer"])
    progress.info(f"resumed from {path} after epoch {state['epoch']} (step {state['step']})")
    return state


def _kept(paths, staged, epoch) -> str:
    """What a cancel leaves: an earlier run's files unchanged, the last complete epoch staged for --resume."""
    exists = os.path.exists(paths["best"]) or os.path.exists(paths["last"])
    earlier = (f"{paths['best']} and the .last.pt, logs and curves beside it are unchanged (an earlier run's)"
               if exists else f"{paths['best']} was not written")
    if not epoch:
        return "no checkpoint was written" + (f"; {earlier}" if exists else "")
    return (f"{earlier}; epoch {epoch}, the last complete one, is kept in {staged['last']} (with "
            f"{os.path.basename(staged['best'])}, logs and curves): rerun with --resume to continue from it")


def fit(task, config: TrainConfig, val_dataset=None, progress: Progress | None = None, ctx=None) -> dict:
    """Train ``task.model`` and write checkpoints, logs and curves (rank 0).

    Args:
        task: supplies ``model``, ``role``, ``bands``, ``in_channels``,
            ``input_transform``, ``steps_per_epoch()``, ``batches(epoch, ctx)``,
            ``loss(model, batch, epoch, step) -> (loss, parts)``,
            ``val_input(batch)`` and ``describe()``.
        config: the run's :class:`TrainConfig`.
        val_dataset: evaluated after every epoch (water IoU); None skips it and
            the best checkpoint is then the last one.
        progress: per-batch progress and cancel. Epochs are written to staged
            names (runlog.staged_paths) and published when the run completes, so
            :class:`Cancelled` leaves an earlier run's files of the same name
            untouched and the last complete epoch in the staged files (--resume).
        ctx: a :class:`~floodkd.training.fit.distributed.DistContext`; default:
            from the environment (torchrun) via ``distributed.setup``, and the
            process group it starts is destroyed on return.

    Returns:
        dict with ``paths``, ``history``, ``best_water_iou``, ``best_epoch`` and
        ``model`` (the trained network after the last epoch, unwrapped).
    """
    from contextlib import nullcontext

    from ...core.io.publish import Publication

    check_train_config(config)
    own = ctx is None
    ctx = ctx or dist_.setup(config.device)
    try:
        progress = progress or Progress()
        publication = (Publication(training_outputs(config), {"--teacher (TEACHER)": config.teacher or None},
                                   progress=progress) if ctx.is_main else nullcontext())
        with publication as pub:
            return _fit(task, config, val_dataset, progress, ctx, pub)
    finally:
        if own:
            dist_.cleanup(ctx)


def _fit(task, config, val_dataset, progress, ctx, pub) -> dict:
    import torch

    paths, staged = run_paths(config.out), staged_paths(config.out)
    model = task.model.to(ctx.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    state = {"epoch": 0, "step": 0, "best": float("-inf"), "best_epoch": 0, "history": []}
    source = staged["last"] if os.path.isfile(staged["last"]) else paths["last"]  # a cancelled run's first
    if config.resume and os.path.isfile(source):
        state.update(_resume(source, task, config, model, optimizer, progress))
    elif config.resume:
        progress.warning(f"--resume: no {paths['last']} yet; starting from scratch")
    if ctx.is_main and not (config.resume and source == staged["last"]):
        discard(staged)
    history = list(state["history"])
    steps = task.steps_per_epoch(ctx)
    total = config.epochs * steps
    from ...core.models.architectures import required_multiple

    net = dist_.wrap(model, ctx, task.in_channels, 2 * required_multiple(config.arch, config.model_kwargs))
    step, lr = state["step"], config.lr
    for epoch in range(state["epoch"], config.epochs):
        seed_everything(derived_seed(config.seed, epoch, ctx.rank))
        t0 = time.monotonic()

        def check_cancelled(where="validation", epoch=epoch):
            if dist_.broadcast_flag(ctx, progress.is_cancelled()):
                raise Cancelled(f"cancelled in epoch {epoch + 1} ({where}); {_kept(paths, staged, epoch)}")

        net.train()
        sums, count = {}, 0
        for i, batch in enumerate(task.batches(epoch, ctx)):
            if i >= steps:
                break
            check_cancelled(f"batch {i + 1}")
            lr = poly_lr(config.lr, step, total, config.poly_power)
            for group in optimizer.param_groups:
                group["lr"] = lr
            batch = to_device(batch, ctx.device)
            loss, parts = task.loss(net, batch, epoch, step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            count += 1
            for k, v in {"loss": float(loss.detach()), **parts}.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            progress.report((epoch * steps + i + 1) / max(1, total) * 0.999,
                            f"epoch {epoch + 1}/{config.epochs} loss {float(loss.detach()):.4f}")
        keys = sorted(sums)
        reduced = dist_.all_sum(ctx, [sums[k] for k in keys] + [count])
        row = {"epoch": epoch + 1, "step": step, "lr": lr,
               **{k: v / max(1.0, reduced[-1]) for k, v in zip(keys, reduced[:-1])}}
        dist_.average_buffers(model, ctx)
        conf = validate(model, val_dataset, task.val_input, config, ctx, check_cancelled)
        metrics = {"val_" + k: v for k, v in conf.as_dict().items()} if val_dataset is not None else {}
        row.update({k: metrics[k] for k in ("val_water_iou", "val_miou") if k in metrics})
        row["seconds"] = time.monotonic() - t0
        history.append(row)
        if row.get("loss") == 0.0 and not task.role == "student":
            progress.warning(f"epoch {epoch + 1}: the training loss is exactly 0, so nothing was learnt: no labelled "
                             "pixel reached the loss (are the labels all nodata, -1?). Check the label files or "
                             "the label source.")
        iou = metrics.get("val_water_iou", float("nan"))
        improved = val_dataset is None or (iou == iou and iou > state["best"])
        if improved:
            state["best"], state["best_epoch"] = (iou if iou == iou else state["best"]), epoch + 1
        progress.info(f"epoch {epoch + 1}/{config.epochs}: loss {row['loss']:.4f}"
                      + (f", val water IoU {iou:.4f}" if val_dataset is not None else "")
                      + (" (best)" if improved and val_dataset is not None else ""))
        if ctx.is_main:
            resume = {"optimizer": optimizer.state_dict(), "epoch": epoch + 1, "step": step,
                      "best": state["best"], "best_epoch": state["best_epoch"], "history": history}
            extra = {"history": history, "epoch": epoch + 1}
            if improved:
                save_checkpoint(_checkpoint(task, config, model, metrics, extra), staged["best"])
            save_checkpoint(_checkpoint(task, config, model, metrics, {**extra, "resume": resume}),
                            staged["last"])
            write_logs(staged, {**asdict(config), **task.describe()}, history)
            plot_curves(staged["plot"], history, f"floodkd {task.role} ({config.arch}/{config.encoder})")
        dist_.barrier(ctx)
    if ctx.is_main:  # all together (core/io/publish.py: rolled back if a rename fails), under the run's locks
        for key, path in staged.items():
            if os.path.exists(path):
                os.replace(path, pub.stage(paths[key]))
        pub.commit(every=False)
    dist_.barrier(ctx)
    progress.report(1.0, "training done")
    best = state["best"] if state["best"] != float("-inf") else float("nan")
    return {"paths": paths, "history": history, "best_water_iou": best, "best_epoch": state["best_epoch"],
            "model": model}
