"""floodkd:trainteacher -> distillstudent -> evaluate through processing.run on
real OMBRIA patches (a 10-patch subset linked from ../shared/data, tiny model)."""
import math
import os

import pytest
import torch

pytest.importorskip("qgis.core")
from qgis.core import QgsProcessingException, QgsProcessingFeedback  # noqa: E402

NUMBERS = [f"{n:04d}" for n in range(1, 11)]  # 0005 and 0010 are the val split




@pytest.fixture(scope="module")
def mini_ombria(tmp_path_factory):
    """OMBRIA's layout with 10 real patches (symlinks into ../shared/data)."""
    from pathlib import Path

    src = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ombria").resolve()
    if not src.exists():
        pytest.skip(f"real data not available: {src}")
    root = tmp_path_factory.mktemp("ombria")
    for sensor in ("S1", "S2"):
        for folder, stem in (("AFTER", "after"), ("BEFORE", "before"), ("MASK", "mask")):
            dest = root / f"Ombria{sensor}" / "train" / folder
            dest.mkdir(parents=True)
            for n in NUMBERS:
                name = f"{sensor}_{stem}_{n}.png"
                os.symlink(src / f"Ombria{sensor}" / "train" / folder / name, dest / name)
    return root


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    torch.set_num_threads(1)


def run(alg, params, feedback=None):
    import processing

    return processing.run(f"floodkd:{alg}", params, feedback=feedback)


TINY = {"DATASET": 1, "EPOCHS": 1, "BATCH_SIZE": 2, "CROP": 64, "ARCH": 1, "ENCODER": "resnet18",
        "MAX_STEPS": 2, "DEVICE": 1}


class RecordingFeedback(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.lines = []

    def pushInfo(self, info):  # noqa: N802 (QGIS API)
        self.lines.append(info)
        super().pushInfo(info)


def test_teacher_student_evaluate_chain(provider, mini_ombria, tmp_path):
    teacher = str(tmp_path / "teacher.pt")
    feedback = RecordingFeedback()
    out = run("trainteacher", {**TINY, "ROOT": str(mini_ombria), "OUTPUT": teacher}, feedback)
    log = "\n".join(feedback.lines).lower()
    assert "loss" in log and "iou" in log  # per-epoch progress reaches the QGIS log
    assert out["OUTPUT"] == teacher and os.path.exists(teacher) and os.path.exists(out["CURVES"])
    assert 0.0 <= out["BEST_WATER_IOU"] <= 1.0
    ckpt = torch.load(teacher, weights_only=True)
    assert ckpt["role"] == "teacher" and ckpt["in_channels"] == 4  # OMBRIA S1 (1) + RGB (3)

    student = str(tmp_path / "student.pt")
    out = run("distillstudent", {**TINY, "ROOT": str(mini_ombria), "TEACHER": teacher, "TEMPERATURE": 2.0,
                                 "HARD_WEIGHT": 0.5, "OUTPUT": student})
    ckpt = torch.load(student, weights_only=True)
    assert ckpt["in_channels"] == 1 and ckpt["training"]["temperature"] == 2.0
    assert ckpt["training"]["teacher"] == teacher

    metrics = run("evaluate", {"DATASET": 1, "ROOT": str(mini_ombria), "SPLIT": "val", "MODEL": student,
                               "DEVICE": 1, "OUTPUT_JSON": str(tmp_path / "m.json")})
    assert metrics["N_CHIPS"] == 2 and 0.0 <= metrics["WATER_IOU"] <= 1.0
    assert os.path.exists(tmp_path / "m.json")


def test_evaluate_otsu_matches_the_cli(provider, tmp_path):
    from pathlib import Path

    root = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sen1floods11").resolve()
    if not root.exists():
        pytest.skip(f"real data not available: {root}")
    metrics = run("evaluate", {"DATASET": 0, "ROOT": str(root), "SPLIT": "test", "METHOD": 1})
    assert metrics["N_CHIPS"] == 2
    assert math.isclose(metrics["WATER_IOU"], 0.6720, abs_tol=5e-4)  # see cli/evaluate.py, Otsu


def test_teacher_for_other_bands_is_refused(provider, mini_ombria, tmp_path, tiny_s1_checkpoint):
    with pytest.raises(QgsProcessingException, match="teacher|band"):
        run("distillstudent", {**TINY, "ROOT": str(mini_ombria), "TEACHER": str(tiny_s1_checkpoint),
                               "OUTPUT": str(tmp_path / "s.pt")})
    assert not (tmp_path / "s.pt").exists()


def test_cancelled_training_writes_no_checkpoint(provider, mini_ombria, tmp_path):
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    with pytest.raises(QgsProcessingException, match="[Cc]ancel"):
        run("trainteacher", {**TINY, "ROOT": str(mini_ombria), "OUTPUT": str(tmp_path / "t.pt")}, feedback)
    assert not any(name.endswith(".pt") for name in os.listdir(tmp_path))


def test_training_without_validation_says_so(provider, mini_ombria, tmp_path):
    feedback = RecordingFeedback()
    out = run("trainsupervised", {**TINY, "ROOT": str(mini_ombria), "VAL_SPLIT": "none",
                                  "OUTPUT": str(tmp_path / "s1.pt")}, feedback)
    assert os.path.exists(out["OUTPUT"]) and out.get("BEST_WATER_IOU") is None  # absent, not NaN
    log = "\n".join(feedback.lines)
    assert "no validation" in log and "nan" not in log.lower()


SHARED = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
TINYUNET = {"EPOCHS": 1, "BATCH_SIZE": 2, "CROP": 64, "ARCH": 3, "WIDTH": 8, "MAX_STEPS": 1, "DEVICE": 1}


def shared_root(name):
    path = os.path.join(SHARED, name)
    if not os.path.isdir(path):
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.mark.parametrize("layout,dataset", [("sen1floods11", 0), ("etci2021", 3)])
def test_trainsupervised_defaults_work_on_the_bundled_layouts(provider, tmp_path, layout, dataset):
    """SPLIT and VAL_SPLIT left at their defaults (the Sen1Floods11 copy has none of the official train chips)."""
    feedback = RecordingFeedback()
    out = run("trainsupervised", {**TINYUNET, "DATASET": dataset, "ROOT": shared_root(layout),
                                  "OUTPUT": str(tmp_path / "m.pt")}, feedback)
    ckpt = torch.load(out["OUTPUT"], weights_only=True)
    assert ckpt["arch"] == "tinyunet" and ckpt["model_kwargs"] == {"width": 8}
    assert ckpt["training"]["sar_augment"] is (layout == "etci2021")  # AUGMENT auto: sar for etci only
    assert [b["name"] for b in ckpt["bands"]] == ["VV", "VH"]
    if layout == "sen1floods11":
        assert any("split all" in line for line in feedback.lines)
        assert ckpt["training"]["datasets"]["train"]["size"] == 3


def test_trainsupervised_defaults_work_on_ombria(provider, mini_ombria, tmp_path):
    out = run("trainsupervised", {**TINYUNET, "DATASET": 1, "ROOT": str(mini_ombria), "OUTPUT": str(tmp_path / "o.pt")})
    assert os.path.exists(out["OUTPUT"]) and 0.0 <= out["BEST_WATER_IOU"] <= 1.0  # val split 'val' by default


def test_the_default_models_recipe_runs_in_qgis_on_etci(provider, tmp_path):
    """trainteacher (a Sentinel-1 teacher: ETCI has no Sentinel-2) then distillstudent, tinyunet, SAR augmentation."""
    root = shared_root("etci2021")
    teacher = run("trainteacher", {**TINYUNET, "DATASET": 3, "ROOT": root, "WIDTH": 12,
                                   "OUTPUT": str(tmp_path / "t.pt")})["OUTPUT"]
    ckpt = torch.load(teacher, weights_only=True)
    assert ckpt["in_channels"] == 2 and ckpt["model_kwargs"] == {"width": 12}
    out = run("distillstudent", {**TINYUNET, "DATASET": 3, "ROOT": root, "TEACHER": teacher, "TEMPERATURE": 2.0,
                                 "HARD_WEIGHT": 0.5, "OUTPUT": str(tmp_path / "s.pt")})
    student = torch.load(out["OUTPUT"], weights_only=True)
    assert student["role"] == "student" and student["training"]["sar_augment"] is True
    assert student["training"]["teacher"] == teacher and student["model_kwargs"] == {"width": 8}


class CancelAfterEpoch(RecordingFeedback):
    """Cancels once the first epoch is reported (as a user pressing Cancel during epoch 2)."""

    def pushInfo(self, info):  # noqa: N802 (QGIS API)
        super().pushInfo(info)
        if info.startswith("epoch 1/"):
            self.cancel()


def test_cancel_keeps_the_earlier_checkpoint_and_says_what_was_kept(provider, mini_ombria, tmp_path):
    out = tmp_path / "supervised.pt"
    run("trainsupervised", {**TINY, "ROOT": str(mini_ombria), "OUTPUT": str(out)})
    earlier = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert {"supervised.pt", "supervised.last.pt", "supervised.curves.png"} <= set(earlier)
    with pytest.raises(QgsProcessingException) as cancelled:
        run("trainsupervised", {**TINY, "EPOCHS": 2, "SEED": 1, "ROOT": str(mini_ombria), "OUTPUT": str(out)},
            CancelAfterEpoch())
    message = str(cancelled.value)
    assert "cancelled in epoch 2" in message and f"{out} and the .last.pt, logs and curves beside it are unchanged" \
        in message and "rerun with RESUME" in message and "--" not in message, message
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name in earlier} == earlier
    assert (tmp_path / "supervised.partial.last.pt").exists()
