"""Hand-label trainers: the S1+S2 teacher and the S1-only supervised baseline.

Both minimise the configured hard-label loss (edge-weighted cross-entropy by
default) with SGD; they differ in what the network sees:

* teacher: Sentinel-1 and Sentinel-2 stacked (``s1`` then ``s2`` channels),
  checkpoint bands ``s1_bands + s2_bands``; on a dataset without Sentinel-2
  (ETCI 2021) a Sentinel-1 teacher, usually a wider network than the student;
* supervised: Sentinel-1 only, on hand or weak labels, checkpoint bands
  ``s1_bands``.
"""
from __future__ import annotations

from ...core.errors import InputError
from ..data.augment import Augmented
from .losses import hard_loss
from .trainer import TrainConfig, check_crop, fit, make_loader


def describe_dataset(dataset) -> dict:
    """What a checkpoint records about a dataset (name, size, bands, labels)."""
    return {"name": getattr(dataset, "name", type(dataset).__name__), "size": len(dataset),
            "labelled": bool(getattr(dataset, "labelled", True)),
            "s1_bands": [b.name for b in dataset.s1_bands],
            "s2_bands": [b.name for b in getattr(dataset, "s2_bands", ())],
            "root": str(getattr(dataset, "root", "")), "split": str(getattr(dataset, "split", ""))}


def channels(dataset, keys) -> int:
    """Channels the network sees, from the first sample's arrays."""
    sample = dataset[0]
    missing = [k for k in keys if k not in sample]
    if missing:
        raise InputError(f"{describe_dataset(dataset)['name']} samples have no {missing[0]!r}; "
                         f"{'the teacher needs Sentinel-2: build the dataset with S2 (with_s2=True)' if 's2' in missing else 'check the dataset'}.")
    return int(sum(sample[k].shape[0] for k in keys))


def stacked_input(batch):
    """S1 and S2 channels stacked, as the teacher sees them."""
    import torch

    return torch.cat([batch["s1"], batch["s2"]], 1)


def s1_input(batch):
    return batch["s1"]


def sar_view(dataset, config):
    """``dataset`` under the SAR physics augmentation when ``config.sar_augment`` (VV/VH dB, no S2)."""
    if not config.sar_augment or dataset is None:
        return dataset
    from ..data.db_augment import SAR_PHYSICS, DbSamples

    if getattr(dataset, "s2_bands", ()):
        raise InputError(f"the SAR augmentation changes Sentinel-1 only, but the {dataset.name} data carry "
                         "Sentinel-2 too; train an S1 model, or turn the augmentation off (--augment none).")
    try:
        return DbSamples(dataset, dataset.s1_bands, seed=config.seed, crop=config.crop, config=SAR_PHYSICS)
    except ValueError as exc:
        raise InputError(f"{exc}; turn the SAR augmentation off (--augment none) for this dataset.") from None


class SupervisedTask:
    """One model trained on hand (or weak) labels from one dataset."""

    def __init__(self, dataset, config: TrainConfig, role: str, val_dataset=None):
        from ...core.models.architectures import build_model

        if role not in ("teacher", "supervised"):
            raise ValueError(f"role must be teacher or supervised, not {role}")
        if not getattr(dataset, "labelled", True):
            raise InputError(f"the {role} needs labels, but the {dataset.name} training dataset is unlabelled; "
                             "use hand (or, for the supervised baseline, weak) labels.")
        self.role, self.config = role, config
        with_s2 = role == "teacher" and bool(getattr(dataset, "s2_bands", ()))
        keys = ("s1", "s2") if with_s2 else ("s1",)
        dataset = sar_view(dataset, config)
        self.bands = tuple(dataset.s1_bands) + (tuple(dataset.s2_bands) if with_s2 else ())
        self.in_channels = channels(dataset, keys)
        self.input_transform = getattr(dataset, "input_transform", "clip_scale")
        self.input_fn = stacked_input if with_s2 else s1_input
        self.data = Augmented(dataset, config.crop, config.flips, config.seed)
        self.datasets = {"train": describe_dataset(dataset)}
        if val_dataset is not None:
            self.datasets["val"] = describe_dataset(val_dataset)
        self.model = build_model(config.arch, config.encoder, self.in_channels, 2, **config.model_kwargs)

    def steps_per_epoch(self, ctx) -> int:
        n = len(make_loader(self.data, self.config.batch_size, ctx, self.config.seed))
        if n == 0:
            raise InputError(f"the training dataset ({len(self.data)} chips) gives no batch; "
                             "lower --batch-size.")
        return min(n, self.config.max_steps_per_epoch) if self.config.max_steps_per_epoch else n

    def batches(self, epoch, ctx):
        self.data.set_epoch(epoch)
        return make_loader(self.data, self.config.batch_size, ctx, self.config.seed, epoch,
                           workers=self.config.num_workers)

    def loss(self, model, batch, epoch, step):
        logits = model(self.input_fn(batch))
        loss = hard_loss(self.config.loss, logits, batch["label"], self.config)
        return loss, {}

    def val_input(self, batch):
        return self.input_fn(batch)

    def describe(self) -> dict:
        return {"datasets": self.datasets}


def _prepare(config, val_dataset):
    import torch

    check_crop(config)
    torch.manual_seed(config.seed)  # identical initial weights on every rank
    return Augmented(val_dataset, None, train=False) if val_dataset is not None else None


def train_teacher(dataset, config: TrainConfig, val_dataset=None, progress=None, ctx=None) -> dict:
    """Train the S1+S2 teacher on hand labels.

    Args:
        dataset: labelled training dataset with S1 and S2 (sample contract).
        config: :class:`~floodkd.training.fit.trainer.TrainConfig` (``loss``,
            ``edge_width``, ``edge_weight``, optimiser and data fields).
        val_dataset: labelled validation dataset with S1 and S2, or None.
        progress: a :class:`~floodkd.core.progress.Progress`.
        ctx: distributed context (default: from the environment).

    Returns:
        :func:`~floodkd.training.fit.trainer.fit`'s result (paths, history, best IoU).
    """
    val = _prepare(config, val_dataset)
    task = SupervisedTask(dataset, config, "teacher", val_dataset)
    return fit(task, config, val, progress, ctx)


def train_supervised(dataset, config: TrainConfig, val_dataset=None, progress=None, ctx=None) -> dict:
    """Train the Sentinel-1-only baseline on hand or weak labels (see :func:`train_teacher`)."""
    val = _prepare(config, val_dataset)
    task = SupervisedTask(dataset, config, "supervised", val_dataset)
    return fit(task, config, val, progress, ctx)
