"""Evaluation numbers against hand computations, checkpoints, and the CLI on real chips."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from floodkd.core.bands import S1_BANDS, S2_BANDS
from floodkd.core.errors import CheckpointError, InputError
from floodkd.cli.main import main
from floodkd.training.data.datasets import ChipDataset, RawChip
from floodkd.training.evaluation.scoring import evaluate, otsu_water

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
S1F11 = DATA / "sen1floods11"
OMBRIA = DATA / "ombria"
needs_s1f11 = pytest.mark.skipif(not S1F11.is_dir(), reason=f"real Sen1Floods11 chips not found at {S1F11}")
needs_ombria = pytest.mark.skipif(not OMBRIA.is_dir(), reason=f"real OMBRIA patches not found at {OMBRIA}")

LABEL_A = np.array([[1, 1, 0], [0, -1, 1]])
PRED_A = np.array([[1, 0, 0], [1, 1, 1]])  # tp 2, fn 1, tn 1, fp 1 (one ignored)
LABEL_B = np.array([[0, 0, 0], [1, 0, 0]])
PRED_B = np.array([[0, 0, 1], [0, 0, 0]])  # tp 0, fp 1, fn 1, tn 4


class TinyDataset(ChipDataset):
    """In-memory chips: raw S1 in dB (and optional S2) with given labels."""

    name = "tiny"
    s1_bands = S1_BANDS

    def __init__(self, labels, s1=None, s2=None, labelled=True):
        super().__init__()
        self.labels, self.labelled = labels, labelled
        self.s1 = s1 or [np.full((2,) + lab.shape, -10.0, np.float32) for lab in labels]
        self.s2 = s2
        self.s2_bands = S2_BANDS if s2 else ()
        self.ids = [f"chip{i}" for i in range(len(labels))]

    def load_raw(self, index):
        label = np.asarray(self.labels[index], np.int64)
        s2 = self.s2[index] if self.s2 else None
        return RawChip(self.ids[index], self.s1[index], s2, label, np.ones(label.shape, bool))


def _by_id(predictions):
    return lambda sample: predictions[sample["id"]]


def test_pooled_metrics_match_a_hand_computation(tmp_path):
    ds = TinyDataset([LABEL_A, LABEL_B])
    out = tmp_path / "chips.csv"
    result = evaluate(ds, _by_id({"chip0": PRED_A * 0.7 + 0.2, "chip1": PRED_B * 0.7 + 0.2}), csv_path=out)
    assert (result["tp"], result["fp"], result["fn"], result["tn"]) == (2, 2, 2, 5)
    assert result["water_iou"] == pytest.approx(2 / 6)  # pooled; the mean of chip IoUs would be 0.25
    assert result["miou"] == pytest.approx((2 / 6 + 5 / 9) / 2)
    assert result["f1"] == pytest.approx(0.5)
    assert result["accuracy"] == pytest.approx(7 / 11)
    assert result["n_chips"] == 2 and result["valid_pixels"] == 11
    rows = out.read_text().splitlines()
    assert rows[0] == "id,water_iou,f1,accuracy,valid_pixels,label_water_fraction,predicted_water_fraction"
    assert rows[1] == "chip0,0.500000,0.666667,0.600000,5,0.600000,0.600000"
    assert rows[2] == "chip1,0.000000,0.000000,0.666667,6,0.166667,0.166667"
    strict = evaluate(ds, _by_id({"chip0": PRED_A * 0.7 + 0.2, "chip1": PRED_B * 0.7 + 0.2}), threshold=0.95)
    assert (strict["tp"], strict["fp"], strict["fn"], strict["tn"]) == (0, 0, 4, 7)


def test_evaluate_refuses_unlabelled_data_bad_shapes_and_unknown_panel_ids():
    with pytest.raises(InputError, match="unlabelled"):
        evaluate(TinyDataset([LABEL_A], labelled=False))
    with pytest.raises(InputError, match=r"shape \(2, 2\) for chip chip0"):
        evaluate(TinyDataset([LABEL_A]), lambda sample: np.zeros((2, 2)))
    with pytest.raises(InputError, match="predictor 3 is not usable"):
        evaluate(TinyDataset([LABEL_A]), 3)
    with pytest.raises(InputError, match="'nope' is not in this tiny dataset"):
        evaluate(TinyDataset([LABEL_A]), panel_path="x.png", panel_ids=["nope"])


def test_otsu_splits_bimodal_vh_and_eight_bit_bands():
    vh = np.where(np.arange(40)[None, :] < 15, -24.0, -9.0) + np.random.default_rng(0).normal(0, 0.5, (30, 40))
    raw = np.stack([vh + 6, vh]).astype(np.float32)
    valid = np.ones((30, 40), bool)
    water, threshold = otsu_water(raw, valid, S1_BANDS)
    assert vh[:, :15].max() <= threshold < vh[:, 15:].min()  # any cut in the gap is Otsu-optimal
    np.testing.assert_array_equal(water, np.broadcast_to(np.arange(40) < 15, (30, 40)))
    from floodkd.training.data.ombria import OMBRIA_S1_BANDS

    gray = np.where(np.arange(40)[None, :] < 10, 40.0, 180.0) * np.ones((30, 1))
    water, threshold = otsu_water(gray[None].astype(np.float32), valid, OMBRIA_S1_BANDS)
    assert 40 < threshold < 180 and water[:, :10].all() and not water[:, 10:].any()
    labels = [np.where(np.arange(40)[None, :] < 15, 1, 0) * np.ones((30, 1), np.int64)]
    assert evaluate(TinyDataset(labels, s1=[raw]), "otsu")["water_iou"] == 1.0


def _constant_water_checkpoint(path, bands):
    """A tiny Unet whose weights are zero except the head bias: water everywhere."""
    import torch

    from floodkd.core.models.checkpoint import make_checkpoint, save_checkpoint
    from floodkd.core.models.architectures import build_model

    torch.set_num_threads(1)
    kwargs = {"encoder_depth": 3, "decoder_channels": (16, 8, 4)}
    model = build_model("unet", "resnet18", len(bands), 2, **kwargs)
    state = {k: torch.zeros_like(v) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    state["segmentation_head.0.bias"] = torch.tensor([0.0, 5.0])
    model.load_state_dict(state)
    save_checkpoint(make_checkpoint(model, "unet", "resnet18", bands, model_kwargs=kwargs,
                                    role="teacher" if len(bands) > 2 else "student"), str(path))
    return str(path)


def test_checkpoint_is_run_on_the_matching_bands(tmp_path):
    pytest.importorskip("segmentation_models_pytorch")
    labels = [np.random.default_rng(1).integers(-1, 2, (36, 44))]  # 36x44: padded to a multiple of 8
    student = _constant_water_checkpoint(tmp_path / "s1.pt", S1_BANDS)
    result = evaluate(TinyDataset(labels), student, device="cpu")
    water, dry = int((labels[0] == 1).sum()), int((labels[0] == 0).sum())
    assert (result["tp"], result["fp"], result["fn"], result["tn"]) == (water, dry, 0, 0)
    assert result["water_iou"] == pytest.approx(water / (water + dry))
    assert result["method"] == "model" and result["device"] == "cpu"
    teacher = _constant_water_checkpoint(tmp_path / "t.pt", S1_BANDS + S2_BANDS)
    with pytest.raises(CheckpointError, match="expects bands VV, VH, B2, B3, B4, B8.*build the dataset with S2"):
        evaluate(TinyDataset(labels), teacher, device="cpu")
    with_s2 = TinyDataset(labels, s2=[np.full((4, 36, 44), 800.0, np.float32)])
    assert evaluate(with_s2, teacher, device="cpu")["tp"] == water


def _hand_label_counts():
    counts = np.zeros(3, int)
    for chip in ("India_900498", "Spain_7370579"):
        with rasterio.open(S1F11 / "LabelHand" / f"{chip}_LabelHand.tif") as ds:
            label = ds.read(1)
        counts += [(label == 0).sum(), (label == 1).sum(), (label != -1).sum()]
    return counts


@needs_s1f11
def test_cli_evaluate_otsu_json_on_real_chips(tmp_path, capsys):
    csv_path, panel = tmp_path / "chips.csv", tmp_path / "panel.png"
    rc = main(["evaluate", "--dataset", "sen1floods11", "--root", str(S1F11), "--split", "test",
               "--method", "otsu", "--csv", str(csv_path), "--panel", str(panel), "--json"])
    out = capsys.readouterr().out
    assert rc == 0 and len(out.strip().splitlines()) == 1
    result = json.loads(out)
    dry, water, valid = _hand_label_counts()
    assert result["n_chips"] == 2 and result["valid_pixels"] == valid and result["missing_chips"] == 88
    assert result["tp"] + result["fn"] == water and result["tn"] + result["fp"] == dry
    assert result["water_iou"] == pytest.approx(0.6720, abs=5e-4)
    assert result["miou"] == pytest.approx(0.7270, abs=5e-4)
    assert result["f1"] == pytest.approx(0.8038, abs=5e-4) and result["accuracy"] == pytest.approx(0.8493, abs=5e-4)
    assert [r.split(",")[0] for r in csv_path.read_text().splitlines()] == ["id", "India_900498", "Spain_7370579"]
    import matplotlib.image

    assert matplotlib.image.imread(str(panel)).shape[:2] == (520, 780)  # 2 chips x (VH, label, prediction)


@needs_s1f11
def test_cli_evaluate_reports_bad_input_with_exit_code_2(capsys):
    rc = main(["evaluate", "--dataset", "sen1floods11", "--root", str(S1F11), "--split", "train",
               "--method", "otsu", "--json"])
    assert rc == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "S1Hand" in captured.err and "split 'train'" in captured.err


@needs_s1f11
def test_floodkd_executable_prints_one_json_object():
    exe = Path(sys.executable).parent / "floodkd"
    if not exe.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    proc = subprocess.run([str(exe), "evaluate", "--dataset", "sen1floods11", "--root", str(S1F11),
                           "--split", "test", "--method", "otsu", "--json"],
                          capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(proc.stdout)
    assert result["n_chips"] == 2 and result["water_iou"] == pytest.approx(0.6720, abs=5e-4)


@needs_ombria
def test_otsu_on_ombria_validation_patches():
    from floodkd.training.data.ombria import Ombria

    result = evaluate(Ombria(str(OMBRIA), "val"), "otsu")
    assert result["n_chips"] == 123 and result["valid_pixels"] == 123 * 256 * 256
    assert result["water_iou"] == pytest.approx(0.4493, abs=5e-4)
