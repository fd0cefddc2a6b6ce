"""Losses and augmentation: exact values on hand-made inputs."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from floodkd.training.fit import losses  # noqa: E402
from floodkd.training.data.augment import Augmented, crop_or_pad, flip, jitter  # noqa: E402


def _label():
    label = torch.zeros(1, 8, 8, dtype=torch.int64)
    label[0, :, 4:] = 1          # vertical boundary between columns 3 and 4
    label[0, 0, 0] = -1
    return label


def test_edge_weights_mark_pixels_within_k_of_the_boundary():
    w = losses.edge_weights(_label(), width=1, weight=5.0)[0]
    assert w[0, 0] == 0                       # ignored pixel
    assert torch.all(w[:, 3:5] == 5.0)        # columns touching the boundary
    assert torch.all(w[1:, :3] == 1.0) and torch.all(w[:, 5:] == 1.0)
    w2 = losses.edge_weights(_label(), width=2, weight=5.0)[0]
    assert torch.all(w2[:, 2:6] == 5.0) and torch.all(w2[:, 6:] == 1.0)


def test_edge_weighted_ce_equals_plain_ce_with_weight_one_and_upweights_edges():
    torch.manual_seed(0)
    logits = torch.randn(1, 2, 8, 8)
    label = _label()
    plain = F.cross_entropy(logits, label, ignore_index=-1)
    assert torch.isclose(losses.edge_weighted_ce(logits, label, 3, 1.0), plain)
    ce = F.cross_entropy(logits, label.clamp(min=0), reduction="none")[0]
    w = losses.edge_weights(label, 1, 4.0)[0]
    expected = (ce * w).sum() / w.sum()
    assert torch.isclose(losses.edge_weighted_ce(logits, label, 1, 4.0), expected)


def test_losses_with_no_valid_pixel_are_zero_and_keep_the_graph():
    logits = torch.randn(1, 2, 4, 4, requires_grad=True)
    label = torch.full((1, 4, 4), -1, dtype=torch.int64)
    for value in (losses.edge_weighted_ce(logits, label), losses.focal_loss(logits, label)):
        assert value.item() == 0.0
        value.backward()
    assert logits.grad is not None


def test_focal_loss_gamma_zero_is_cross_entropy_and_down_weights_easy_pixels():
    torch.manual_seed(1)
    logits = torch.randn(2, 2, 5, 5)
    label = torch.randint(0, 2, (2, 5, 5))
    label[0, 0, 0] = -1
    ce = F.cross_entropy(logits, label, ignore_index=-1)
    assert torch.isclose(losses.focal_loss(logits, label, gamma=0.0), ce)
    assert losses.focal_loss(logits, label, gamma=2.0) < ce
    # one pixel by hand: p_t = softmax([2, 0])[0], FL = -(1 - p)^2 log p
    p = math.exp(2) / (math.exp(2) + 1)
    one = losses.focal_loss(torch.tensor([2.0, 0.0]).view(1, 2, 1, 1), torch.zeros(1, 1, 1, dtype=torch.int64))
    assert one.item() == pytest.approx(-((1 - p) ** 2) * math.log(p), rel=1e-5)


def test_kd_loss_is_t_squared_kl_and_zero_for_equal_logits():
    torch.manual_seed(2)
    s, t = torch.randn(2, 2, 3, 3), torch.randn(2, 2, 3, 3)
    assert losses.kd_loss(t.clone(), t, 4.0).item() == pytest.approx(0.0, abs=1e-6)
    T = 3.0
    p = torch.softmax(t / T, 1)
    expected = (p * (torch.log(p) - torch.log_softmax(s / T, 1))).sum(1).mean() * T * T
    assert torch.isclose(losses.kd_loss(s, t, T), expected, rtol=1e-5)
    mask = torch.zeros(2, 3, 3, dtype=torch.bool)
    mask[0, 1, 1] = True
    kl_pixel = (p * (torch.log(p) - torch.log_softmax(s / T, 1))).sum(1)[0, 1, 1] * T * T
    assert torch.isclose(losses.kd_loss(s, t, T, mask), kl_pixel, rtol=1e-5)
    with pytest.raises(ValueError):
        losses.kd_loss(s, t, 0.0)


def test_kd_loss_gradient_flows_to_student_only():
    s = torch.randn(1, 2, 2, 2, requires_grad=True)
    t = torch.randn(1, 2, 2, 2, requires_grad=True)
    losses.kd_loss(s, t, 2.0).backward()
    assert s.grad is not None and t.grad is None


def test_feature_distill_uses_sigmoid_then_channel_softmax_at_t5():
    torch.manual_seed(3)
    fs, ft = torch.randn(1, 4, 2, 2), torch.randn(1, 4, 4, 4)
    T = 5.0
    fs_up = F.interpolate(fs, size=(4, 4), mode="bilinear", align_corners=False)
    p = torch.softmax(torch.sigmoid(ft) / T, 1)
    q = torch.log_softmax(torch.sigmoid(fs_up) / T, 1)
    expected = (p * (torch.log(p) - q)).sum(1).mean() * T * T
    assert torch.isclose(losses.feature_distill_loss(fs, ft, T), expected, rtol=1e-5)
    assert losses.feature_distill_loss(ft, ft, T).item() == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError, match="same channel count"):
        losses.feature_distill_loss(torch.randn(1, 3, 2, 2), ft)


def _sample(h=6, w=5):
    s1 = np.arange(2 * h * w, dtype=np.float32).reshape(2, h, w)
    return {"id": "a", "s1": s1, "s2": s1[:1] + 100, "label": (s1[0] % 2).astype(np.int64),
            "valid": np.ones((h, w), bool)}


def test_crop_and_flip_move_all_arrays_together_and_pad_as_invalid():
    s = _sample()
    c = crop_or_pad(s, 1, 2, 3)
    assert np.array_equal(c["s1"], s["s1"][:, 1:4, 2:5]) and np.array_equal(c["label"], s["label"][1:4, 2:5])
    p = crop_or_pad(s, -1, -1, 8)
    assert p["s1"].shape == (2, 8, 8) and not p["valid"][0].any() and (p["label"][0] == -1).all()
    assert np.array_equal(p["s2"][:, 1:7, 1:6], s["s2"])
    f = flip(s, True, True)
    assert np.array_equal(f["s1"], s["s1"][:, ::-1, ::-1]) and np.array_equal(f["s2"], s["s2"][:, ::-1, ::-1])
    assert np.array_equal(f["label"], s["label"][::-1, ::-1])


class _One:
    name = "one"

    def __init__(self):
        self.s = _sample(16, 16)

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return dict(self.s)


def test_augmented_is_reproducible_per_seed_epoch_index_and_keeps_pairs_aligned():
    a, b = Augmented(_One(), crop=8, seed=5), Augmented(_One(), crop=8, seed=5)
    x, y = a[1], b[1]
    assert all(np.array_equal(x[k], y[k]) for k in ("s1", "s2", "label", "valid"))
    assert np.array_equal(x["s2"][0], x["s1"][0] + 100)      # same window and flips
    assert np.array_equal(x["label"], (x["s1"][0] % 2).astype(np.int64))
    crops = {a[i]["s1"].tobytes() for i in range(3)}
    a.set_epoch(1)
    crops |= {a[i]["s1"].tobytes() for i in range(3)}
    assert len(crops) > 1


def test_jitter_changes_only_the_given_tensor_and_keeps_invalid_pixels_zero():
    x = torch.rand(3, 2, 4, 4)
    valid = torch.ones(3, 4, 4, dtype=torch.bool)
    valid[:, 0, 0] = False
    x[:, :, 0, 0] = 0
    y = jitter(x, torch.Generator().manual_seed(0), 0.2, 0.2, valid)
    assert y.shape == x.shape and not torch.equal(x, y)
    assert torch.all(y[:, :, 0, 0] == 0)
    assert torch.equal(jitter(x, torch.Generator(), 0.0, 0.0), x)
    z = jitter(x, torch.Generator().manual_seed(0), 0.2, 0.2, valid)
    assert torch.equal(y, z)
