"""Self-describing checkpoints, checked against the input before use.

A checkpoint is a ``torch.save`` dict of plain types and tensors (so it loads
with ``weights_only=True``): architecture, encoder, model kwargs, input bands
with units and clip ranges, classes, training configuration and data, metrics,
and the floodkd version that wrote it.
"""
from __future__ import annotations

import datetime as _dt
import os
import tempfile

from .bands import BandSpec, describe
from .errors import CheckpointError, require_torch

FORMAT = "floodkd-checkpoint"
FORMAT_VERSION = 1
CLASSES = ("dry", "water")


def make_checkpoint(model, arch, encoder, bands, model_kwargs=None, classes=CLASSES,
                    role="student", training=None, metrics=None, extra=None,
                    in_channels=None, input_transform="clip_scale") -> dict:
    """Bundle a model and everything needed to use it safely."""
    from .. import __version__

    ckpt = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "floodkd_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "role": role,
        "arch": arch,
        "encoder": encoder,
        "model_kwargs": dict(model_kwargs or {}),
        "bands": [b.to_dict() for b in bands],
        # Channels the network sees; differs from len(bands) when the input
        # transform derives channels (see core/representation.py).
        "in_channels": int(in_channels or len(bands)),
        "input_transform": input_transform,
        "classes": list(classes),
        "training": dict(training or {}),
        "metrics": dict(metrics or {}),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    ckpt.update(extra or {})
    return ckpt


def save_checkpoint(ckpt: dict, path: str) -> None:
    """Write atomically: a crash or full disk never corrupts the previous file."""
    torch = require_torch()
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".floodkd-", suffix=".pt.part", dir=folder)
    os.close(fd)
    try:
        from .raster_io import _umask_permissions

        _umask_permissions(tmp)
        torch.save(ckpt, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_checkpoint(path: str) -> dict:
    """Load and validate a floodkd checkpoint (tensors on the CPU)."""
    torch = require_torch()
    if not os.path.isfile(path):
        raise CheckpointError(f"model checkpoint not found: {path}. Leave MODEL empty for the bundled default.")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for corrupt files
        raise CheckpointError(
            f"{path} is not a readable floodkd checkpoint ({type(exc).__name__}: {exc}). "
            "Give a .pt file written by `floodkd train-teacher`, `train-supervised` or `distill`.") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a floodkd checkpoint (no '{FORMAT}' header).")
    if ckpt.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer floodkd ({ckpt.get('floodkd_version')}); upgrade floodkd.")
    missing = [k for k in ("arch", "encoder", "bands", "classes", "state_dict") if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path} lacks {missing}; it cannot be used safely.")
    return ckpt


def checkpoint_bands(ckpt: dict) -> tuple:
    return tuple(BandSpec.from_dict(b) for b in ckpt["bands"])


def check_bands(ckpt: dict, available, path: str = "checkpoint") -> None:
    """Fail clearly when the checkpoint wants bands the input does not have."""
    bands = checkpoint_bands(ckpt)
    avail = [b.name for b in available]
    wanted = [b.name for b in bands]
    if wanted != avail:
        role = ckpt.get("role", "model")
        raise CheckpointError(
            f"{path} is a {role} for {len(bands)} band(s) ({describe(bands)}), but the input "
            f"provides {len(avail)} ({', '.join(avail)}). Use a checkpoint trained on "
            f"{', '.join(avail)} (a Sentinel-1 student or supervised S1 model), or leave MODEL "
            "empty for the bundled default.")
    for want, have in zip(bands, available):
        if want.units != have.units:
            raise CheckpointError(
                f"{path} expects band {want.name} in {want.units}, the input has {have.units}.")


def model_from_checkpoint(ckpt: dict):
    """Rebuild the network and load its weights (eval mode, CPU)."""
    from .models import build_model

    model = build_model(ckpt["arch"], ckpt["encoder"], ckpt.get("in_channels", len(ckpt["bands"])),
                        len(ckpt["classes"]), **ckpt.get("model_kwargs", {}))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint weights do not fit {ckpt['arch']}/{ckpt['encoder']}: {exc}") from exc
    return model.eval()
