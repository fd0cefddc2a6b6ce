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

from ..bands import BandSpec, describe
from ..errors import CheckpointError, require_torch

FORMAT = "floodkd-checkpoint"
FORMAT_VERSION = 1
CLASSES = ("dry", "water")


def make_checkpoint(model, arch, encoder, bands, model_kwargs=None, classes=CLASSES,
                    role="student", training=None, metrics=None, extra=None,
                    in_channels=None, input_transform="clip_scale") -> dict:
    """Bundle a model and everything needed to use it safely."""
    from ... import __version__

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
        # transform derives channels (only clip_scale today: one channel per band).
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
        from ..io.raster_io import _umask_permissions

        _umask_permissions(tmp)
        torch.save(ckpt, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# What to do when a checkpoint path does not exist, by the role of the path.
NOT_FOUND_HINTS = {
    "model": "Leave MODEL empty for the bundled default.",
    "teacher": "Give the .pt file written by `floodkd train-teacher` as --teacher.",
    "evaluate": "Give a model written by floodkd (.pt or .onnx), or use --method otsu (METHOD otsu in QGIS) "
                "for the Otsu baseline.",
    "export": "Give a .pt file written by `floodkd train-teacher`, `train-supervised` or `distill`.",
    "resume": "Start without --resume, or give the .last.pt file of an earlier run.",
}


def _load_error(exc: Exception) -> str:
    """torch's reason for a failed load, without its advice to unpickle arbitrary objects."""
    text = str(exc)
    if "Unsupported global" in text or "GLOBAL" in text:
        return ("it holds Python objects besides tensors and plain values, which floodkd never unpickles "
                "(loading them could run code from the file)")
    if "Weights only load failed" in text or "weights_only" in text:
        return ("its bytes are not a PyTorch checkpoint (neither a torch zip archive nor a readable pickle of "
                "tensors); the file is damaged or of another kind")
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(exc).__name__}: {first[:300]}"


def load_checkpoint(path: str, role: str = "model") -> dict:
    """Load and validate a floodkd checkpoint (tensors on the CPU).

    ``role`` (a key of NOT_FOUND_HINTS) only chooses the advice when ``path``
    does not exist. Refuses files that are not floodkd checkpoints, name an
    unknown architecture, or whose weights hold NaN or infinity.
    """
    torch = require_torch()
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint not found: {path}. {NOT_FOUND_HINTS.get(role, NOT_FOUND_HINTS['export'])}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for corrupt files
        raise CheckpointError(
            f"{path} is not a readable floodkd checkpoint ({_load_error(exc)}). "
            "Give a .pt file written by `floodkd train-teacher`, `train-supervised` or `distill`.") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a floodkd checkpoint (no '{FORMAT}' header).")
    missing = [k for k in ("arch", "encoder", "bands", "classes", "state_dict") if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path} lacks {missing}; it cannot be used safely.")
    check_header(ckpt, path)
    check_network(ckpt, path)
    check_input_transform(ckpt, path)
    check_finite_weights(ckpt["state_dict"], path)
    return ckpt


# Bounds of header values floodkd can build a network from (a 1e9-channel input would exhaust memory).
MAX_CHANNELS = 64
ENCODER_DEPTHS = range(1, 9)


def check_header(ckpt: dict, path: str = "checkpoint") -> None:
    """Refuse a malformed header (checkpoint or ONNX metadata) with a clear message instead of a traceback:
    format_version, classes (with 'water'), bands, in_channels and model_kwargs' encoder_depth."""
    def bad(what):
        return CheckpointError(f"{path} has a malformed header ({what}); it was not written by floodkd or was "
                               "edited. Use an intact model written by floodkd.")

    version = ckpt.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad(f"format_version {version!r} is not a whole number")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer floodkd ({ckpt.get('floodkd_version')}); "
                              "upgrade floodkd.")
    classes = ckpt.get("classes")
    if not isinstance(classes, (list, tuple)) or not all(isinstance(c, str) for c in classes) or len(classes) < 2:
        raise bad(f"classes {classes!r} is not a list of class names")
    if "water" not in classes:
        raise bad(f"classes {list(classes)} has no 'water' class, so no water map can be read from it")
    bands = ckpt.get("bands")
    if not isinstance(bands, (list, tuple)) or not bands:
        raise bad(f"bands {bands!r} is not a list of band specifications")
    try:
        specs = [BandSpec.from_dict(b) for b in bands]
    except (TypeError, KeyError, AttributeError):
        raise bad("a band specification lacks name, sensor, units, low or high") from None
    import math

    for spec in specs:
        if not (isinstance(spec.low, (int, float)) and isinstance(spec.high, (int, float))
                and math.isfinite(spec.low) and math.isfinite(spec.high) and spec.low < spec.high):
            raise bad(f"band {spec.name!r} has the clip range {spec.low!r}..{spec.high!r}")
    channels = ckpt.get("in_channels", len(bands))
    if not isinstance(channels, int) or isinstance(channels, bool) or not 1 <= channels <= MAX_CHANNELS:
        raise bad(f"in_channels {channels!r} is not a whole number of 1..{MAX_CHANNELS}")
    if channels != len(bands) and ckpt.get("input_transform", "clip_scale") == "clip_scale":
        raise bad(f"in_channels {channels} differs from its {len(bands)} bands")
    kwargs = ckpt.get("model_kwargs", {})
    if not isinstance(kwargs, dict):
        raise bad(f"model_kwargs {kwargs!r} is not a mapping")
    depth = kwargs.get("encoder_depth", 5)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth not in ENCODER_DEPTHS:
        raise bad(f"encoder_depth {depth!r} is not a whole number of {ENCODER_DEPTHS.start}..{ENCODER_DEPTHS.stop - 1}")


# Input transforms this floodkd no longer reads, and the last release that did.
RETIRED_TRANSFORMS = {"db_to_ombria_byte": "0.1.0"}


def check_input_transform(ckpt: dict, path: str = "checkpoint") -> None:
    """Refuse a checkpoint (or ONNX metadata) whose input transform this floodkd does not apply."""
    kind = ckpt.get("input_transform", "clip_scale")
    if kind == "clip_scale":
        return
    from ... import __version__

    if kind in RETIRED_TRANSFORMS:
        raise CheckpointError(
            f"{path} feeds its network through the '{kind}' input transform (an 8-bit OMBRIA-style model), "
            f"which floodkd {__version__} no longer applies. Read it with floodkd {RETIRED_TRANSFORMS[kind]} "
            "(pip install floodkd==" + RETIRED_TRANSFORMS[kind] + "), or use a model trained on dB input "
            "(leave MODEL empty for the bundled default).")
    raise CheckpointError(f"{path} names input transform {kind!r}, which floodkd {__version__} does not know "
                          "(only 'clip_scale'); it was written by another program or a newer floodkd.")


def check_network(ckpt: dict, path: str = "checkpoint") -> None:
    """Refuse an architecture floodkd cannot build (the encoder is checked when the model is built)."""
    from .architectures import is_known_architecture, known_architectures

    arch = ckpt["arch"]
    if not is_known_architecture(arch):
        raise CheckpointError(f"{path} names architecture {arch!r}, which floodkd cannot build (it knows "
                              f"{', '.join(known_architectures())}); it was written by another program or a "
                              "newer floodkd.")
    if not isinstance(ckpt["encoder"], str) or not isinstance(ckpt["state_dict"], dict):
        raise CheckpointError(f"{path} has a malformed encoder or state_dict entry; it cannot be used safely.")


def check_finite_weights(state_dict: dict, path: str = "checkpoint") -> None:
    """Refuse weights holding NaN or infinity (a corrupted file gives a NaN map otherwise)."""
    torch = require_torch()
    bad = [name for name, t in state_dict.items()
           if torch.is_tensor(t) and t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise CheckpointError(
            f"{path} is corrupted: {len(bad)} weight tensor(s) hold NaN or infinite values "
            f"({', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}). Use an intact copy of the checkpoint, "
            "or retrain.")


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
    from .architectures import build_model

    try:
        model = build_model(ckpt["arch"], ckpt["encoder"], ckpt.get("in_channels", len(ckpt["bands"])),
                            len(ckpt["classes"]), **ckpt.get("model_kwargs", {}))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # unknown encoder, bad kwargs
        reason = str(exc.args[0]) if exc.args else type(exc).__name__
        raise CheckpointError(
            f"the checkpoint's network ({ckpt['arch']}/{ckpt['encoder']}) cannot be built by this floodkd "
            f"({reason[:200]}); it was written by another program or a newer floodkd.") from None
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint weights do not fit {ckpt['arch']}/{ckpt['encoder']}: {exc}") from exc
    return model.eval()
