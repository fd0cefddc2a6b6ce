"""Cross-modal distillation: a Sentinel-1 student learns from an S1+S2 teacher.

Each batch is half labelled chips and half unlabelled chips (two loaders, the
shorter one cycled). The frozen teacher sees clean S1+S2; the student sees the
S1 channels with brightness/contrast jitter and minimises
``T^2 KL(teacher_T || student_T)`` over valid pixels, plus optionally
``hard_weight`` x the hard-label loss on the labelled half and
``feature_weight`` x HFD-Net feature distillation on one encoder level.
"""
from __future__ import annotations

from ...core.bands import describe
from ...core.models.checkpoint import checkpoint_bands, load_checkpoint, model_from_checkpoint
from ...core.errors import CheckpointError, InputError
from ..data.augment import Augmented, jitter
from .losses import feature_distill_loss, hard_loss, kd_loss
from .teacher import _prepare, channels, describe_dataset, s1_input, sar_view, stacked_input
from .trainer import TrainConfig, derived_seed, fit, make_loader


def teacher_sees_s2(ckpt: dict) -> bool:
    """True for the paper's S1+S2 teacher; False for a Sentinel-1 teacher (larger net or ensemble)."""
    return any(b.sensor == "S2" for b in checkpoint_bands(ckpt))


def check_teacher_bands(ckpt: dict, dataset, path: str) -> None:
    """Raise CheckpointError unless the teacher was trained on ``dataset``'s S1(+S2) bands."""
    want = checkpoint_bands(ckpt)
    have = tuple(dataset.s1_bands) + (tuple(getattr(dataset, "s2_bands", ())) if teacher_sees_s2(ckpt) else ())
    if [(b.name, b.units) for b in want] != [(b.name, b.units) for b in have]:
        raise CheckpointError(
            f"teacher {path} was trained on {len(want)} band(s) ({describe(want)}), but the "
            f"{dataset.name} dataset gives S1+S2 = {len(have)} band(s) ({describe(have) or 'none'}). "
            "Train the teacher on the same dataset type with S2 (`floodkd train-teacher --dataset "
            f"{dataset.name}`), or distil with data that has the teacher's bands.")
    transform = getattr(dataset, "input_transform", "clip_scale")
    if ckpt.get("input_transform", "clip_scale") != transform:
        raise CheckpointError(f"teacher {path} expects input transform {ckpt.get('input_transform')!r}, "
                              f"the {dataset.name} dataset gives {transform!r}.")


def _cycle(data, batch_size, ctx, seed, epoch, workers):
    """Endless batches; each pass over ``data`` gets its own shuffle and crops."""
    cycle = 0
    while True:
        sub_epoch = epoch * 1000 + cycle
        data.set_epoch(sub_epoch)
        yield from make_loader(data, batch_size, ctx, seed, sub_epoch, workers=workers)
        cycle += 1


def _concat(a: dict, b: dict) -> dict:
    import torch

    out = {}
    for key in a:
        if key not in b:
            continue
        out[key] = torch.cat([a[key], b[key]], 0) if hasattr(a[key], "shape") else list(a[key]) + list(b[key])
    return out


class DistillTask:
    """Student training against a frozen teacher checkpoint."""

    role = "student"

    def __init__(self, labelled, unlabelled, config: TrainConfig, val_dataset=None):
        from ...core.models.architectures import build_model

        if not config.teacher:
            raise InputError("distillation needs a teacher checkpoint (--teacher PATH.pt from train-teacher).")
        self.config = config
        self.teacher_ckpt = load_checkpoint(config.teacher, role="teacher")
        sources = [d for d in (labelled, unlabelled) if d is not None]
        if not sources:
            raise InputError("distillation needs a labelled and/or an unlabelled dataset with S1 and S2.")
        for data in sources:
            check_teacher_bands(self.teacher_ckpt, data, config.teacher)
        if labelled is not None and [b.name for b in labelled.s1_bands] != [b.name for b in sources[-1].s1_bands]:
            raise InputError(f"the labelled ({labelled.name}) and unlabelled ({unlabelled.name}) datasets "
                             "have different S1 bands; use sources of the same sensor set-up.")
        if config.sar_augment:  # the teacher labels the clean chip (s1_clean), the student sees it augmented
            if teacher_sees_s2(self.teacher_ckpt):
                raise InputError("the SAR augmentation needs a Sentinel-1 teacher (it labels the clean S1 "
                                 "chip); this teacher sees Sentinel-2 too: use --augment none.")
            labelled, unlabelled = sar_view(labelled, config), sar_view(unlabelled, config)
            sources = [d for d in (labelled, unlabelled) if d is not None]
        self.teacher = model_from_checkpoint(self.teacher_ckpt)
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.bands = tuple(sources[-1].s1_bands)
        self.in_channels = channels(sources[-1], ("s1",))
        self.input_transform = getattr(sources[-1], "input_transform", "clip_scale")
        self.sources = [Augmented(d, config.crop, config.flips, config.seed + k)
                        for k, d in enumerate(sources)]
        half = config.batch_size // len(self.sources)
        self.sizes = [half] * (len(self.sources) - 1) + [config.batch_size - half * (len(self.sources) - 1)]
        if min(self.sizes) < 1:
            raise InputError(f"--batch-size {config.batch_size} cannot be split between two sources; use >= 2.")
        self.datasets = {("labelled" if d is labelled else "unlabelled"): describe_dataset(d) for d in sources}
        if val_dataset is not None:
            self.datasets["val"] = describe_dataset(val_dataset)
        self.model = build_model(config.arch, config.encoder, self.in_channels, 2, **config.model_kwargs)
        self._feats = {}
        if config.feature_distill:
            self.model.encoder.register_forward_hook(self._hook("student"))
            self.teacher.encoder.register_forward_hook(self._hook("teacher"))

    def _hook(self, name):
        def hook(module, inputs, output):
            self._feats[name] = output[self.config.feature_level]
        return hook

    def steps_per_epoch(self, ctx) -> int:
        n = max(len(make_loader(d, b, ctx, self.config.seed)) for d, b in zip(self.sources, self.sizes))
        if n == 0:
            raise InputError("the distillation datasets give no batch; lower --batch-size.")
        return min(n, self.config.max_steps_per_epoch) if self.config.max_steps_per_epoch else n

    def batches(self, epoch, ctx):
        streams = [_cycle(d, b, ctx, self.config.seed + k, epoch, self.config.num_workers)
                   for k, (d, b) in enumerate(zip(self.sources, self.sizes))]
        while True:
            parts = [next(s) for s in streams]
            if len(parts) == 2:  # hard labels come from the labelled half only
                parts[1] = {**parts[1], "label": parts[1]["label"].new_full(parts[1]["label"].shape, -1)}
            batch = parts[0]
            for extra in parts[1:]:
                batch = _concat(batch, extra)
            yield batch

    def loss(self, model, batch, epoch, step):
        import torch

        cfg = self.config
        if teacher_sees_s2(self.teacher_ckpt):
            x_teacher = stacked_input(batch)
        else:  # a Sentinel-1 teacher labels the clean chip the student sees augmented
            x_teacher = batch.get("s1_clean", batch["s1"])
        if next(self.teacher.parameters()).device != x_teacher.device:
            self.teacher.to(x_teacher.device)
        self.teacher.eval()
        with torch.no_grad():
            t_logits = self.teacher(x_teacher)
        gen = torch.Generator().manual_seed(derived_seed(cfg.seed, epoch, step, 7))
        x_student = jitter(batch["s1"], gen, cfg.brightness, cfg.contrast, batch["valid"])
        s_logits = model(x_student)
        kd = kd_loss(s_logits, t_logits, cfg.temperature, batch["valid"])
        parts = {"kd": float(kd.detach())}
        loss = kd
        if cfg.hard_weight > 0:
            hard = hard_loss(cfg.loss, s_logits, batch["label"], cfg)
            loss = loss + cfg.hard_weight * hard
            parts["hard"] = float(hard.detach())
        if cfg.feature_distill:
            feat = feature_distill_loss(self._feats.pop("student"), self._feats.pop("teacher"),
                                        cfg.feature_temperature)
            loss = loss + cfg.feature_weight * feat
            parts["feature"] = float(feat.detach())
        return loss, parts

    def val_input(self, batch):
        return s1_input(batch)

    def describe(self) -> dict:
        return {"datasets": self.datasets,
                "teacher_info": {"path": self.config.teacher, "arch": self.teacher_ckpt["arch"],
                                 "encoder": self.teacher_ckpt["encoder"],
                                 "metrics": dict(self.teacher_ckpt.get("metrics", {}))}}


def train_student(labelled, unlabelled, config: TrainConfig, val_dataset=None, progress=None,
                  ctx=None) -> dict:
    """Distil the teacher ``config.teacher`` into a Sentinel-1 student.

    Args:
        labelled: hand-labelled dataset with S1 and S2 (half of every batch), or None.
        unlabelled: dataset with S1 and S2, labels unused (the other half), or None.
        config: :class:`~floodkd.training.fit.trainer.TrainConfig`; uses ``teacher``,
            ``temperature``, ``hard_weight``, ``feature_distill``,
            ``feature_weight``, ``feature_temperature``, ``feature_level``,
            ``brightness``, ``contrast`` besides the shared fields.
        val_dataset: labelled S1 validation dataset (student input), or None.
        progress: a :class:`~floodkd.core.progress.Progress`.
        ctx: distributed context (default: from the environment).

    Raises:
        CheckpointError: the teacher's bands differ from the datasets' S1+S2.
    """
    val = _prepare(config, val_dataset)
    task = DistillTask(labelled, unlabelled, config, val_dataset)
    return fit(task, config, val, progress, ctx)
