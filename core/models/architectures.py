"""Model factory: segmentation-models-pytorch (imported lazily) and floodkd's own tiny U-Net."""
from __future__ import annotations

from ..errors import require_module, require_torch

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
    if arch.lower() == "tinyunet":  # pure torch: see core/models/tiny_unet.py
        from .tiny_unet import build_tiny_unet

        return build_tiny_unet(in_channels, num_classes, **kwargs)
    smp = require_module("segmentation_models_pytorch",
                         "segmentation-models-pytorch is not installed: run scripts/setup.sh "
                         "or `pip install -r requirements.txt`")
    key = architecture_key(arch)
    if key not in ARCHITECTURES:
        raise ValueError(f"unknown architecture '{arch}'; choose one of {sorted(ARCHITECTURES) + ['tinyunet']}")
    cls = getattr(smp, ARCHITECTURES[key])
    kwargs.pop("encoder_weights", None)
    return cls(encoder_name=encoder, encoder_weights=None, in_channels=in_channels,
               classes=num_classes, **kwargs)


def architecture_key(arch: str) -> str:
    """``DeepLabV3Plus``, ``deeplab_v3plus`` -> the ARCHITECTURES key ``deeplabv3plus``."""
    return arch.lower().replace("_", "").replace("-", "")


def known_architectures() -> list:
    """Every ``arch`` build_model accepts (smp's and floodkd's own tinyunet)."""
    return sorted(ARCHITECTURES) + ["tinyunet"]


def is_known_architecture(arch) -> bool:
    return isinstance(arch, str) and (architecture_key(arch) in ARCHITECTURES or arch.lower() == "tinyunet")


def required_multiple(arch: str, model_kwargs: dict) -> int:
    """Input sides must be a multiple of this (the encoder's output stride)."""
    if arch.lower() == "tinyunet":
        return 16
    depth = model_kwargs.get("encoder_depth", 5)
    return 2 ** depth
