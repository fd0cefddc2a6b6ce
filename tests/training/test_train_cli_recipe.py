"""The default model's recipe from the command line: --dataset etci, --arch tinyunet, --augment, default splits."""
import pytest
import torch

from floodkd.cli.main import main

TINY = ["--arch", "tinyunet", "--width", "8", "--crop", "64", "--batch-size", "2", "--epochs", "1",
        "--max-steps-per-epoch", "1", "--device", "cpu"]


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def test_supervised_teacher_and_student_on_etci_in_db(shared, tmp_path):
    root = str(shared("etci2021"))
    assert main(["train-supervised", "--dataset", "etci", "--root", root, *TINY, "--out", str(tmp_path / "s.pt")]) == 0
    sup = torch.load(tmp_path / "s.pt", weights_only=True)
    assert sup["arch"] == "tinyunet" and sup["encoder"] == "none" and sup["model_kwargs"] == {"width": 8}
    assert sup["training"]["sar_augment"] is True                  # auto: the SAR physics for etci
    assert sup["training"]["datasets"]["train"]["size"] == 554     # both scenes: split all by default
    assert [(b["name"], b["units"]) for b in sup["bands"]] == [("VV", "dB"), ("VH", "dB")]

    teacher = str(tmp_path / "t.pt")
    assert main(["train-teacher", "--dataset", "etci", "--root", root, *TINY, "--width", "12", "--out", teacher]) == 0
    t = torch.load(teacher, weights_only=True)
    assert t["in_channels"] == 2 and t["model_kwargs"] == {"width": 12}  # a Sentinel-1 teacher: ETCI has no S2

    assert main(["distill", "--dataset", "etci", "--root", root, *TINY, "--teacher", teacher, "--temperature", "2",
                 "--hard-weight", "0.5", "--split", "northal_20190302t234651", "--out", str(tmp_path / "st.pt")]) == 0
    st = torch.load(tmp_path / "st.pt", weights_only=True)
    assert st["role"] == "student" and st["training"]["temperature"] == 2.0
    assert st["training"]["datasets"]["labelled"]["size"] == 356    # one scene


def test_augment_none_and_an_unknown_scene(shared, tmp_path, capsys):
    root = str(shared("etci2021"))
    assert main(["train-supervised", "--dataset", "etci", "--root", root, *TINY, "--augment", "none",
                 "--out", str(tmp_path / "n.pt")]) == 0
    assert torch.load(tmp_path / "n.pt", weights_only=True)["training"]["sar_augment"] is False
    assert main(["train-supervised", "--dataset", "etci", "--root", root, *TINY, "--split", "atlantis",
                 "--out", str(tmp_path / "x.pt")]) != 0
    assert "atlantis" in capsys.readouterr().err and not (tmp_path / "x.pt").exists()


def test_sen1floods11_defaults_train_on_the_chips_present(shared, tmp_path, capsys):
    root = str(shared("sen1floods11"))
    assert main(["train-supervised", "--dataset", "sen1floods11", "--root", root, *TINY,
                 "--out", str(tmp_path / "s.pt")]) == 0
    out = capsys.readouterr().out
    assert "split all" in out and "no validation" in out
    ckpt = torch.load(tmp_path / "s.pt", weights_only=True)
    assert ckpt["training"]["datasets"]["train"]["size"] == 3 and ckpt["training"]["sar_augment"] is False
    # a split the user names is kept as given, and its absence is an error naming it
    assert main(["train-supervised", "--dataset", "sen1floods11", "--root", root, *TINY, "--split", "train",
                 "--out", str(tmp_path / "t.pt")]) != 0
    assert "train" in capsys.readouterr().err
