"""Training outputs (checkpoint, .last.pt, logs, curves) get segment's destination checks, and impossible
settings are refused before any work (issue 16)."""
import os
import stat

import numpy as np
import pytest

pytest.importorskip("torch")

from floodkd.cli.main import main  # noqa: E402


@pytest.fixture
def dataset(writable_sen1floods11):
    return writable_sen1floods11


def train(capsys, root, out, *more, command="train-supervised"):
    code = main([command, "--dataset", "sen1floods11", "--root", str(root), "--split", "bolivia",
                 "--val-split", "none", "--out", str(out), "--arch", "tinyunet", "--encoder", "none",
                 "--crop", "64", "--batch-size", "2", "--max-steps-per-epoch", "1", "--epochs", "1",
                 "--device", "cpu", *map(str, more)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_out_on_a_label_file_is_refused(capsys, dataset):
    label = dataset / "LabelHand" / "Bolivia_312675_LabelHand.tif"
    before = label.read_bytes()
    code, text = train(capsys, dataset, label)
    assert code == 2 and "is a file of the dataset" in text, text
    assert label.read_bytes() == before


def test_distill_out_equal_to_the_teacher_is_refused(capsys, dataset, tmp_path):
    teacher = tmp_path / "teacher.pt"
    teacher.write_bytes(b"a teacher checkpoint")
    code, text = train(capsys, dataset, teacher, "--teacher", teacher, command="distill")
    assert code == 2 and "same file as --teacher" in text, text
    assert teacher.read_bytes() == b"a teacher checkpoint"


@pytest.mark.parametrize("option,value,message", [
    ("--epochs", "0", "--epochs (EPOCHS) must be a whole number >= 1"),
    ("--epochs", "-1", "--epochs (EPOCHS) must be a whole number >= 1"),
    ("--lr", "nan", "--lr (LR) must be a finite number > 0"),
    ("--batch-size", "0", "--batch-size (BATCH_SIZE) must be a whole number >= 1"),
])
def test_impossible_settings_are_refused_before_any_work(capsys, dataset, tmp_path, option, value, message):
    code, text = train(capsys, dataset, tmp_path / "m.pt", option, value)
    assert code == 2 and message in text and "Traceback" not in text and "wrote" not in text, text
    assert os.listdir(tmp_path) == ["s1f11"]


def test_outputs_keep_usual_permissions_never_follow_links_and_protected_ones_are_refused(capsys, dataset,
                                                                                           tmp_path):
    out = tmp_path / "runs"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "m.log.json").symlink_to(victim)
    old = os.umask(0o022)
    try:
        code, text = train(capsys, dataset, out / "m.pt")
    finally:
        os.umask(old)
    assert code == 0, text
    assert victim.read_text() == "precious" and not (out / "m.log.json").is_symlink()
    names = sorted(os.listdir(out))
    assert names == ["m.curves.png", "m.last.pt", "m.log.csv", "m.log.json", "m.pt"], names
    for name in names:
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644, name
    (out / "m.pt").chmod(0o444)
    code, text = train(capsys, dataset, out / "m.pt")
    assert code == 2 and "write-protected" in text
    assert stat.S_IMODE((out / "m.pt").stat().st_mode) == 0o444


def test_all_nodata_labels_warn_that_nothing_is_learnt(capsys, dataset, tmp_path):
    import rasterio

    for label in (dataset / "LabelHand").iterdir():
        with rasterio.open(label, "r+") as ds:
            ds.write(np.full((ds.height, ds.width), -1, ds.dtypes[0]), 1)
    code, text = train(capsys, dataset, tmp_path / "m.pt")
    assert "loss is exactly 0" in text and "nodata" in text, text
