"""The bundled default model: size, declared inputs, and accuracy on real dB chips.

Numbers asserted here were measured when the model was bundled (see
resources/models/floodkd_s1_student.md); the margin allows for float16 weights
and platform differences, not for a worse model.
"""
import json
import os

import numpy as np
import pytest
import rasterio

from floodkd.core.checkpoint import checkpoint_bands, load_checkpoint, model_from_checkpoint
from floodkd.core.predictors import DEFAULT_MODEL, default_model_path
from floodkd.training.cli import main

from .conftest import shared_file

# Water IoU of `floodkd segment` (no --model) against LabelHand, measured at bundling time.
MEASURED_IOU = {"Spain_7370579": 0.5479, "India_900498": 0.7350}
MARGIN = 0.02
MAX_BYTES = 30 * 2**20


def test_bundled_checkpoint_loads_small_and_declares_s1_db():
    assert default_model_path() == DEFAULT_MODEL and os.path.isfile(DEFAULT_MODEL)
    assert os.path.getsize(DEFAULT_MODEL) <= MAX_BYTES
    ckpt = load_checkpoint(DEFAULT_MODEL)
    bands = checkpoint_bands(ckpt)
    assert [(b.name, b.units) for b in bands] == [("VV", "dB"), ("VH", "dB")]
    assert ckpt["role"] == "student" and ckpt["in_channels"] == 1
    assert ckpt["input_transform"] == "db_to_ombria_byte"
    assert set(ckpt["input_params"]) == {"band", "offset", "scale", "smooth"}
    assert ckpt["metrics"] and ckpt["training"]
    model = model_from_checkpoint(ckpt)  # float16 weights load into the float32 network
    assert next(model.parameters()).dtype.is_floating_point


def test_representation_maps_db_to_ombria_bytes():
    from floodkd.core.representation import model_input

    ckpt = load_checkpoint(DEFAULT_MODEL)
    p = ckpt["input_params"]
    # Constant tiles (the k x k multi-look keeps them): VV -100 dB clips to byte 0, -9 dB maps linearly.
    raw = np.array([[-100.0, -20.0], [-9.0, -16.0]], np.float32)[:, :, None, None] * np.ones((1, 1, 8, 8), np.float32)
    valid = np.ones((2, 8, 8), bool)
    x = model_input(raw, valid, checkpoint_bands(ckpt), ckpt)
    assert x.shape == (2, 1, 8, 8)
    assert np.all(x[0] == 0.0)
    assert np.allclose(x[1], np.clip(p["offset"] - 9.0 * p["scale"], 0, 255) / 255, atol=1e-5)
    x = model_input(raw, ~valid, checkpoint_bands(ckpt), ckpt)
    assert not x.any()


@pytest.mark.parametrize("chip", sorted(MEASURED_IOU))
def test_segment_without_model_uses_bundled_and_scores(chip, tmp_path, capsys):
    s1 = shared_file("sen1floods11", "S1Hand", f"{chip}_S1Hand.tif")
    label_path = shared_file("sen1floods11", "LabelHand", f"{chip}_LabelHand.tif")
    out = tmp_path / "w.tif"
    assert main(["segment", str(s1), str(out), "--json", "--threads", "2"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["method"] == "model"
    # The bundled .onnx where onnxruntime is installed (core/model_choice.py), else the .pt.
    used = os.path.splitext(os.path.basename(str(summary["predictor"].get("model", ""))))[0]
    assert used == os.path.splitext(os.path.basename(DEFAULT_MODEL))[0], summary
    with rasterio.open(out) as ds:
        pred = ds.read(1)
    with rasterio.open(label_path) as ds:
        label = ds.read(1)
    ok = (label != -1) & (pred != 255)
    water, truth = pred == 1, label == 1
    tp = (water & truth & ok).sum()
    iou = tp / ((water | truth) & ok).sum()
    assert iou >= MEASURED_IOU[chip] - MARGIN, f"{chip}: water IoU {iou:.4f} < measured {MEASURED_IOU[chip]}"
