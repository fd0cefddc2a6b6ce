"""Model factory over segmentation-models-pytorch (imported lazily)."""
from __future__ import annotations

from .errors import MissingDependency, require_torch

ARCHITECTURES = {
    "deeplabv3plus": "DeepLabV3Plus",
    "unet": "Unet",
    "fpn": "FPN",
}


def build_model(arch: str, encoder: str, in_channels: int, num_classes: int = 2, **kwargs):
    """Build an untrained segmentation network.

    Args:
        arch: one of ``ARCHITECTURES`` (``deeplabv3plus`` is the paper's).
        encoder: an smp encoder name, e.g. ``resnet34``, ``xception65`` is
            the paper's (``tu-xception65`` through timm).
        in_channels: number of input bands (2 for S1, 6 for S1+S2).
        num_classes: output classes (2: dry, water).
        **kwargs: passed to the smp class (``encoder_depth``, ``decoder_channels``...).

    Encoder weights are never downloaded: networks start from random weights
    or from a floodkd checkpoint on disk.
    """
    require_torch()
    try:
        import segmentation_models_pytorch as smp
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise MissingDependency(
            "segmentation-models-pytorch is not installed: run scripts/setup.sh "
            "or `pip install -r requirements.txt`") from exc
    key = arch.lower().replace("_", "").replace("-", "")
    if key not in ARCHITECTURES:
        raise ValueError(f"unknown architecture '{arch}'; choose one of {sorted(ARCHITECTURES)}")
    cls = getattr(smp, ARCHITECTURES[key])
    kwargs.pop("encoder_weights", None)
    return cls(encoder_name=encoder, encoder_weights=None, in_channels=in_channels,
               classes=num_classes, **kwargs)


def required_multiple(arch: str, model_kwargs: dict) -> int:
    """Input sides must be a multiple of this (the encoder's output stride)."""
    depth = model_kwargs.get("encoder_depth", 5)
    return 2 ** depth
