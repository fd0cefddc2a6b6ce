"""Training losses: edge-weighted cross-entropy, focal loss, and distillation.

All losses take logits ``(B, C, H, W)`` and labels ``(B, H, W)`` int64 with
``-1`` meaning "ignore" (no label, nodata). Every loss returns a scalar that
stays attached to the graph even when a batch holds no valid pixel (then it
is ``0 * logits.sum()``), so a DDP step never sees unused parameters.

torch is imported inside the functions so this module imports without it.
"""
from __future__ import annotations

IGNORE = -1


def _zero(logits):
    return logits.sum() * 0.0


def edge_weights(label, width: int = 3, weight: float = 2.0):
    """Per-pixel weights that emphasise class boundaries.

    A pixel is an *edge* pixel when both classes (dry and water) occur within
    ``width`` pixels of it (a square, Chebyshev neighbourhood of side
    ``2 * width + 1``). Edge pixels get ``weight``, other labelled pixels 1 and
    ignored pixels (``-1``) 0.

    Args:
        label: ``(B, H, W)`` int64 tensor, 0 dry / 1 water / -1 ignore.
        width: ``k``, the distance in pixels from a boundary that counts as edge.
        weight: ``w``, the weight of edge pixels.

    Returns:
        ``(B, H, W)`` float32 weights.
    """
    import torch
    import torch.nn.functional as F

    valid = label != IGNORE
    weights = valid.float()
    if width <= 0 or weight == 1.0:
        return weights
    size = 2 * width + 1
    water = (label == 1).float().unsqueeze(1)
    dry = (label == 0).float().unsqueeze(1)
    near_water = F.max_pool2d(water, size, stride=1, padding=width).squeeze(1) > 0
    near_dry = F.max_pool2d(dry, size, stride=1, padding=width).squeeze(1) > 0
    edge = near_water & near_dry & valid
    return torch.where(edge, torch.full_like(weights, float(weight)), weights)


def edge_weighted_ce(logits, label, width: int = 3, weight: float = 2.0):
    """Cross-entropy with extra weight on pixels near a class boundary.

    The weighted sum is divided by the sum of weights (as torch's class-weighted
    cross-entropy does), so ``weight=1`` equals plain cross-entropy over the
    labelled pixels.

    Args:
        logits: ``(B, C, H, W)`` raw scores.
        label: ``(B, H, W)`` int64, ``-1`` ignored.
        width: edge half-width ``k`` in pixels (see :func:`edge_weights`).
        weight: edge weight ``w``.
    """
    import torch.nn.functional as F

    w = edge_weights(label, width, weight)
    total = w.sum()
    if total <= 0:
        return _zero(logits)
    ce = F.cross_entropy(logits.float(), label.clamp(min=0), reduction="none")
    return (ce * w).sum() / total


def focal_loss(logits, label, gamma: float = 2.0, alpha: float | None = None):
    """Focal loss (Lin et al. 2017), the hard-label loss HFD-Net uses.

    ``FL = -alpha_t (1 - p_t)^gamma log p_t`` averaged over labelled pixels.

    Args:
        logits: ``(B, C, H, W)`` raw scores.
        label: ``(B, H, W)`` int64, ``-1`` ignored.
        gamma: focusing parameter (0 gives cross-entropy).
        alpha: weight of the water class (1 - alpha for dry); None for none.
    """
    import torch

    valid = label != IGNORE
    if not bool(valid.any()):
        return _zero(logits)
    logp = torch.log_softmax(logits.float(), 1)
    target = label.clamp(min=0).unsqueeze(1)
    logp_t = logp.gather(1, target).squeeze(1)
    p_t = logp_t.exp()
    loss = -((1 - p_t) ** gamma) * logp_t
    if alpha is not None:
        loss = loss * torch.where(label == 1, torch.full_like(loss, alpha), torch.full_like(loss, 1 - alpha))
    return loss[valid].mean()


def kd_loss(student_logits, teacher_logits, temperature: float = 1.0, mask=None):
    """Distillation to the teacher's soft labels (Hinton et al. 2015).

    Teacher probabilities are ``softmax(teacher_logits / T)``; the loss is
    ``T^2 * KL(teacher || student)`` with the student also at temperature T,
    summed over classes and averaged over the pixels in ``mask``.

    Args:
        student_logits: ``(B, C, H, W)``.
        teacher_logits: ``(B, C, H, W)``; gradients are not taken through it.
        temperature: ``T`` (> 0).
        mask: optional ``(B, H, W)`` bool, pixels to average over (e.g. valid SAR).
    """
    import torch

    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    t = float(temperature)
    log_q = torch.log_softmax(student_logits.float() / t, 1)
    log_p = torch.log_softmax(teacher_logits.detach().float() / t, 1)
    kl = (log_p.exp() * (log_p - log_q)).sum(1)
    if mask is not None:
        if not bool(mask.any()):
            return _zero(student_logits)
        kl = kl[mask]
    return kl.mean() * t * t


def feature_distill_loss(student_feat, teacher_feat, temperature: float = 5.0):
    """HFD-Net feature distillation on one encoder level.

    Each feature map goes through a sigmoid, then a softmax over channels at
    temperature ``T``; the loss is ``T^2 * KL(teacher || student)`` averaged
    over pixels. Maps of different spatial size are matched by bilinear
    resizing of the student's; channel counts must agree (same encoder).

    Args:
        student_feat: ``(B, C, h, w)`` student encoder features.
        teacher_feat: ``(B, C, h', w')`` teacher encoder features (detached).
        temperature: ``T`` (HFD-Net uses 5).
    """
    import torch
    import torch.nn.functional as F

    if student_feat.shape[1] != teacher_feat.shape[1]:
        raise ValueError(
            f"feature distillation needs the same channel count: student has {student_feat.shape[1]}, "
            f"teacher {teacher_feat.shape[1]}; use the teacher's encoder for the student")
    if student_feat.shape[-2:] != teacher_feat.shape[-2:]:
        student_feat = F.interpolate(student_feat, size=teacher_feat.shape[-2:], mode="bilinear",
                                     align_corners=False)
    t = float(temperature)
    log_q = torch.log_softmax(torch.sigmoid(student_feat.float()) / t, 1)
    log_p = torch.log_softmax(torch.sigmoid(teacher_feat.detach().float()) / t, 1)
    return (log_p.exp() * (log_p - log_q)).sum(1).mean() * t * t


def hard_loss(name: str, logits, label, config):
    """The configured hard-label loss: ``edge_ce``, ``ce`` or ``focal``."""
    if name == "edge_ce":
        return edge_weighted_ce(logits, label, config.edge_width, config.edge_weight)
    if name == "ce":
        return edge_weighted_ce(logits, label, 0, 1.0)
    if name == "focal":
        return focal_loss(logits, label, config.focal_gamma)
    raise ValueError(f"unknown loss '{name}'; use edge_ce, ce or focal")
