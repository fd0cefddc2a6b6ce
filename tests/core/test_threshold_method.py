"""The fixed VH dB threshold: predictor, `segment --method threshold`, `evaluate --method threshold`."""
import json

import numpy as np
import pytest
import rasterio

from floodkd.core.errors import InputError
from floodkd.core.predict.threshold_predictor import VH_THRESHOLD_DB, ThresholdPredictor
from floodkd.cli.main import main


def test_probability_is_one_half_exactly_at_the_threshold():
    p = ThresholdPredictor(-20.0)
    raw = np.array([[[-20.0, -25.0, -15.0]], [[-20.0, -25.0, -15.0]]], np.float32)[None, :, 0]  # (1, 2, 3)
    prob = p.predict(raw.reshape(1, 2, 1, 3), np.ones((1, 1, 3), bool))[0, 0]
    assert prob[0] == pytest.approx(0.5) and prob[1] > 0.99 and prob[2] < 0.01
    assert ThresholdPredictor().threshold_db == VH_THRESHOLD_DB
    for bad in (float("nan"), -100.0, 50.0):
        with pytest.raises(InputError, match="VH threshold"):
            ThresholdPredictor(bad)


def _read(path, band=1):
    with rasterio.open(path) as ds:
        return ds.read(band)


def test_segment_threshold_is_exactly_vh_below_the_db_value(spain_s1, tmp_path, capsys):
    vh = _read(spain_s1, 2)
    out = tmp_path / "t.tif"
    assert main(["segment", str(spain_s1), str(out), "--method", "threshold", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["method"] == "threshold" and summary["predictor"]["threshold_db"] == VH_THRESHOLD_DB
    pred = _read(out)
    valid = np.isfinite(vh)
    assert (pred[~valid] == 255).all()
    assert np.array_equal(pred[valid] == 1, vh[valid] < VH_THRESHOLD_DB)
    out2 = tmp_path / "t20.tif"
    assert main(["segment", str(spain_s1), str(out2), "--method", "threshold", "--vh-threshold-db", "-20"]) == 0
    assert np.array_equal(_read(out2)[valid] == 1, vh[valid] < -20)
    assert (_read(out2) == 1).sum() > (pred == 1).sum()
    capsys.readouterr()
    assert main(["segment", str(spain_s1), str(tmp_path / "bad.tif"), "--method", "threshold",
                 "--vh-threshold-db", "-100"]) == 2
    assert "VH threshold" in capsys.readouterr().err and not (tmp_path / "bad.tif").exists()


def test_evaluate_threshold_matches_a_hand_count(capsys):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sen1floods11"
    if not (root / "LabelHand").is_dir():
        pytest.skip(f"real data not available: {root}")
    assert main(["evaluate", "--dataset", "sen1floods11", "--root", str(root), "--method", "threshold", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    tp = union = 0
    for label_path in sorted((root / "LabelHand").glob("*_LabelHand.tif")):
        s1_path = root / "S1Hand" / label_path.name.replace("LabelHand", "S1Hand")
        if not s1_path.exists():
            continue
        label, vh = _read(label_path), _read(s1_path, 2)
        ok = (label != -1) & np.isfinite(_read(s1_path, 1)) & np.isfinite(vh)
        water = (vh < VH_THRESHOLD_DB) & ok
        tp += (water & (label == 1)).sum()
        union += ((water | (label == 1)) & ok).sum()
    assert result["method"] == "threshold" and result["water_iou"] == pytest.approx(tp / union, abs=1e-9)
