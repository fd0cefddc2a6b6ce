"""Teacher, supervised and student trainers end to end on tiny synthetic chips.

``TinyPairs`` follows the dataset contract of training/data/datasets.py; test_ddp.py
loads it from this file by path.
"""
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from floodkd.core.bands import S1_BANDS, S2_BANDS  # noqa: E402
from floodkd.core.models.checkpoint import load_checkpoint, make_checkpoint, model_from_checkpoint, save_checkpoint  # noqa: E402
from floodkd.core.errors import Cancelled, CheckpointError, InputError  # noqa: E402
from floodkd.core.progress import Progress  # noqa: E402

TINY = {"encoder_depth": 3, "decoder_channels": (32, 16, 8)}


class TinyPairs:
    """Synthetic S1/S2 chips: water is dark in VV/VH and in NIR (B8)."""

    name = "tiny"
    s1_bands = S1_BANDS
    input_transform = "clip_scale"

    def __init__(self, n=8, size=40, with_s2=True, labelled=True, seed=0, s2_bands=S2_BANDS):
        self.n, self.size, self.labelled, self.seed = n, size, labelled, seed
        self.s2_bands = tuple(s2_bands) if with_s2 else ()
        self.ids = [f"chip{i}" for i in range(n)]

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, i])
        yy, xx = np.mgrid[0:self.size, 0:self.size] / self.size
        a, b, c = rng.uniform(-1, 1, 3)
        water = (a * (xx - 0.5) + b * (yy - 0.5) + 0.2 * np.sin(6 * xx + c)) > 0
        noise = lambda k: rng.normal(0, 0.08, (k, self.size, self.size))  # noqa: E731
        s1 = np.where(water, 0.15, 0.6) + noise(2)
        sample = {"id": self.ids[i], "s1": s1.astype(np.float32)}
        if self.s2_bands:
            s2 = np.stack([np.where(water, 0.2, 0.3), np.where(water, 0.25, 0.35),
                           np.where(water, 0.2, 0.4), np.where(water, 0.05, 0.8)])
            sample["s2"] = (s2 + noise(4) / 2).astype(np.float32)[:len(self.s2_bands)]
        label = water.astype(np.int64) if self.labelled else np.full(water.shape, -1, np.int64)
        sample["label"] = label
        sample["valid"] = np.ones(water.shape, bool)
        return sample


def tiny_config(out, **kw):
    from floodkd.training.fit.trainer import TrainConfig

    base = dict(out=str(out), arch="unet", encoder="resnet18", model_kwargs=dict(TINY), epochs=2,
                batch_size=4, crop=32, lr=0.05, seed=3, device="cpu", edge_width=1, edge_weight=2.0)
    base.update(kw)
    return TrainConfig(**base)


def tiny_teacher_checkpoint(path, bands=S1_BANDS + S2_BANDS, seed=0):
    from floodkd.core.models.architectures import build_model

    torch.manual_seed(seed)
    model = build_model("unet", "resnet18", len(bands), 2, **TINY)
    save_checkpoint(make_checkpoint(model, "unet", "resnet18", bands, TINY, role="teacher"), str(path))
    return str(path)


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


class CancelAfter(Progress):
    """Answers 'cancelled' from the ``n``-th poll on; records info lines."""

    def __init__(self, n=None):
        self.n, self.polls, self.lines = n, 0, []

    def is_cancelled(self):
        self.polls += 1
        return self.n is not None and self.polls >= self.n

    def info(self, message):
        self.lines.append(message)


def test_teacher_end_to_end_writes_checkpoints_logs_and_curves(tmp_path):
    from floodkd.training.fit.teacher import train_teacher

    progress = CancelAfter()
    out = tmp_path / "teacher.pt"
    result = train_teacher(TinyPairs(8), tiny_config(out), TinyPairs(4, seed=9), progress)
    paths = result["paths"]
    for key in ("best", "last", "json", "csv", "plot"):
        assert os.path.getsize(paths[key]) > 0, key
    assert progress.polls == 6           # once per batch: 2 epochs x (2 training + 1 validation)
    assert any("val water IoU" in line for line in progress.lines)
    ckpt = load_checkpoint(paths["last"])
    assert ckpt["role"] == "teacher" and ckpt["in_channels"] == 6
    assert [b["name"] for b in ckpt["bands"]] == ["VV", "VH", "B2", "B3", "B4", "B8"]
    assert ckpt["input_transform"] == "clip_scale"
    assert ckpt["training"]["lr"] == 0.05 and ckpt["training"]["crop"] == 32
    assert ckpt["training"]["datasets"]["train"]["size"] == 8
    assert ckpt["resume"]["epoch"] == 2 and ckpt["resume"]["step"] == 4
    assert 0.0 <= ckpt["metrics"]["val_water_iou"] <= 1.0
    assert len(result["history"]) == 2 and result["history"][1]["lr"] < 0.05
    best = load_checkpoint(paths["best"])
    assert "resume" not in best and best["metrics"]["val_water_iou"] == result["best_water_iou"]
    x = torch.rand(1, 6, 32, 32)
    assert model_from_checkpoint(best)(x).shape == (1, 2, 32, 32)
    with open(paths["csv"]) as fh:
        assert fh.readline().startswith("epoch,")


def test_supervised_s1_checkpoint_records_s1_bands(tmp_path):
    from floodkd.training.fit.teacher import train_supervised

    result = train_supervised(TinyPairs(4, with_s2=False), tiny_config(tmp_path / "s1.pt", epochs=1))
    ckpt = load_checkpoint(result["paths"]["best"])
    assert ckpt["role"] == "supervised" and ckpt["in_channels"] == 2
    assert [b["name"] for b in ckpt["bands"]] == ["VV", "VH"]
    assert np.isnan(result["best_water_iou"])             # no validation set given


def test_teacher_without_s2_is_a_sentinel1_teacher_and_without_labels_is_refused(tmp_path):
    from floodkd.training.fit.teacher import SupervisedTask, train_supervised, train_teacher

    s1_only = SupervisedTask(TinyPairs(4, with_s2=False), tiny_config(tmp_path / "t.pt"), "teacher")
    with_s2 = SupervisedTask(TinyPairs(4), tiny_config(tmp_path / "t.pt"), "teacher")
    assert [b.sensor for b in s1_only.bands] == ["S1"] * len(TinyPairs(4).s1_bands)  # e.g. ETCI: no S2 exists
    assert s1_only.in_channels < with_s2.in_channels and any(b.sensor == "S2" for b in with_s2.bands)
    with pytest.raises(InputError, match="unlabelled"):
        train_supervised(TinyPairs(4, labelled=False), tiny_config(tmp_path / "s.pt"))
    with pytest.raises(InputError, match="multiple of 8"):
        train_teacher(TinyPairs(4), tiny_config(tmp_path / "t.pt", crop=36))


def _fixed_batch_losses(task, steps=10, lr=0.05):
    from floodkd.training.fit.distributed import DistContext

    batch = next(iter(task.batches(0, DistContext())))
    opt = torch.optim.SGD(task.model.parameters(), lr=lr, momentum=0.9)
    task.model.train()
    values = []
    for step in range(steps):
        loss, _ = task.loss(task.model, batch, 0, 0)   # same step: same jitter
        opt.zero_grad()
        loss.backward()
        opt.step()
        values.append(loss.item())
    return values


def test_teacher_loss_decreases_on_a_fixed_batch(tmp_path):
    from floodkd.training.fit.teacher import SupervisedTask

    torch.manual_seed(0)
    values = _fixed_batch_losses(SupervisedTask(TinyPairs(4), tiny_config(tmp_path / "t.pt"), "teacher"))
    assert values[-1] < 0.5 * values[0], values


def test_student_loss_decreases_on_a_fixed_batch(tmp_path):
    from floodkd.training.fit.student import DistillTask

    teacher = tiny_teacher_checkpoint(tmp_path / "teacher.pt")
    cfg = tiny_config(tmp_path / "s.pt", teacher=teacher, temperature=2.0, hard_weight=0.5)
    torch.manual_seed(0)
    values = _fixed_batch_losses(DistillTask(TinyPairs(4), TinyPairs(4, labelled=False, seed=5), cfg))
    assert values[-1] < 0.65 * values[0], values   # measured 0.48 -> 0.27


def test_student_end_to_end_with_hard_and_feature_terms(tmp_path):
    from floodkd.training.fit.student import train_student

    teacher = tiny_teacher_checkpoint(tmp_path / "teacher.pt")
    cfg = tiny_config(tmp_path / "student.pt", teacher=teacher, epochs=1, hard_weight=0.5,
                      feature_distill=True, temperature=2.0)
    progress = CancelAfter()
    result = train_student(TinyPairs(4), TinyPairs(8, labelled=False, seed=5), cfg,
                           TinyPairs(4, with_s2=False, seed=9), progress)
    assert progress.polls == 5           # 8 unlabelled / 2 per batch = 4 steps (labelled half cycled) + 1 val
    row = result["history"][0]
    assert {"kd", "hard", "feature", "loss", "val_water_iou"} <= set(row)
    assert row["loss"] == pytest.approx(row["kd"] + 0.5 * row["hard"] + row["feature"], rel=1e-5)
    ckpt = load_checkpoint(result["paths"]["best"])
    assert ckpt["role"] == "student" and ckpt["in_channels"] == 2
    assert [b["name"] for b in ckpt["bands"]] == ["VV", "VH"]
    assert ckpt["training"]["teacher_info"]["path"] == teacher
    assert ckpt["training"]["datasets"]["unlabelled"]["labelled"] is False
    assert ckpt["training"]["temperature"] == 2.0 and ckpt["training"]["feature_distill"] is True


def test_teacher_band_mismatch_raises_checkpoint_error(tmp_path):
    from floodkd.training.fit.student import train_student

    wrong = tiny_teacher_checkpoint(tmp_path / "rgb_teacher.pt", bands=S1_BANDS + S2_BANDS[:3])
    cfg = tiny_config(tmp_path / "student.pt", teacher=wrong)
    with pytest.raises(CheckpointError, match=r"rgb_teacher\.pt was trained on 5 band") as err:
        train_student(TinyPairs(4), TinyPairs(4, labelled=False), cfg)
    assert "gives S1+S2 = 6 band(s)" in str(err.value) and "train-teacher" in str(err.value)
    assert not os.path.exists(tmp_path / "student.pt")


def _student_cfg(tmp_path, out, **kw):
    teacher = tmp_path / "teacher.pt"
    if not teacher.exists():
        tiny_teacher_checkpoint(teacher)
    return tiny_config(tmp_path / out, teacher=str(teacher), hard_weight=0.5, epochs=2, **kw)


# polls per epoch: teacher 2 training + 1 validation batch, student 4 + 1; cancel in epoch 2
@pytest.mark.parametrize("role, cancel_at, steps", [("teacher", 5, 2), ("student", 8, 4)])
def test_cancel_then_resume_equals_an_uninterrupted_run(tmp_path, role, cancel_at, steps):
    from floodkd.training.fit.student import train_student
    from floodkd.training.fit.teacher import train_teacher

    def run(out, progress=None, **kw):
        if role == "teacher":
            return train_teacher(TinyPairs(8), tiny_config(tmp_path / out, **kw), TinyPairs(2, seed=9), progress)
        return train_student(TinyPairs(4), TinyPairs(8, labelled=False, seed=5), _student_cfg(tmp_path, out, **kw),
                             TinyPairs(2, with_s2=False, seed=9), progress)

    whole = run("whole.pt")
    with pytest.raises(Cancelled, match="rerun with --resume"):
        run("cut.pt", CancelAfter(cancel_at))    # batch 2 of epoch 2
    cut = load_checkpoint(str(tmp_path / "cut.partial.last.pt"))   # the last complete epoch, staged
    assert not (tmp_path / "cut.pt").exists() and not (tmp_path / "cut.last.pt").exists()
    assert cut["resume"]["epoch"] == 1 and cut["resume"]["step"] == steps
    model_from_checkpoint(cut)
    resumed = run("cut.pt", resume=True)
    assert not [n for n in os.listdir(tmp_path) if ".partial." in n]  # published
    a = load_checkpoint(whole["paths"]["last"])["state_dict"]
    b = load_checkpoint(resumed["paths"]["last"])["state_dict"]
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert [r["loss"] for r in resumed["history"]] == [r["loss"] for r in whole["history"]]


def test_resume_refuses_a_checkpoint_of_another_architecture(tmp_path):
    from floodkd.training.fit.teacher import train_supervised

    train_supervised(TinyPairs(4, with_s2=False), tiny_config(tmp_path / "m.pt", epochs=1))
    with pytest.raises(CheckpointError, match="resnet18 encoder"):
        train_supervised(TinyPairs(4, with_s2=False),
                         tiny_config(tmp_path / "m.pt", encoder="resnet34", resume=True))


def test_distill_batches_are_half_labelled_half_unlabelled(tmp_path):
    from floodkd.training.fit.distributed import DistContext
    from floodkd.training.fit.student import DistillTask

    cfg = _student_cfg(tmp_path, "s.pt", batch_size=6)
    labelled = TinyPairs(4)
    task = DistillTask(labelled, TinyPairs(4, seed=5), cfg)   # labels of the second source unused
    batch = next(iter(task.batches(0, DistContext())))
    assert batch["s1"].shape == (6, 2, 32, 32) and batch["s2"].shape == (6, 4, 32, 32)
    assert len(batch["id"]) == 6
    assert (batch["label"][:3] >= 0).all() and (batch["label"][3:] == -1).all()


OMBRIA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "ombria")
FAST = ["--epochs", "1", "--batch-size", "2", "--crop", "32", "--arch", "unet", "--encoder", "resnet18",
        "--max-steps-per-epoch", "1", "--device", "cpu", "--val-split", "none"]


def test_cli_teacher_then_distill_on_real_ombria_chips(tmp_path, capsys):
    from floodkd.cli.main import main

    if not os.path.isdir(os.path.join(OMBRIA, "OmbriaS2")):
        pytest.skip(f"OMBRIA not available under {OMBRIA}")
    teacher = str(tmp_path / "teacher.pt")
    assert main(["train-teacher", "--dataset", "ombria", "--root", OMBRIA, "--out", teacher] + FAST) == 0
    ckpt = load_checkpoint(teacher)
    assert [b["name"] for b in ckpt["bands"]] == ["S1", "R", "G", "B"] and ckpt["in_channels"] == 4
    student = str(tmp_path / "student.pt")
    rc = main(["distill", "--dataset", "ombria", "--root", OMBRIA, "--teacher", teacher, "--out", student,
               "--unlabelled-dataset", "ombria", "--unlabelled-root", OMBRIA, "--temperature", "2",
               "--hard-weight", "0.5", "--feature-distill"] + FAST)
    assert rc == 0
    ckpt = load_checkpoint(student)
    assert ckpt["role"] == "student" and [b["name"] for b in ckpt["bands"]] == ["S1"]
    assert ckpt["training"]["datasets"]["unlabelled"]["labelled"] is False   # OMBRIA "before" images
    assert ckpt["training"]["datasets"]["unlabelled"]["split"] == "train"
    assert "wrote " + student in capsys.readouterr().out
    # the OMBRIA teacher does not fit Sen1Floods11's VV, VH + B2, B3, B4, B8: exit code 2, clear message
    s1f = os.path.join(OMBRIA, "..", "sen1floods11")
    if os.path.isdir(os.path.join(s1f, "S2Hand")):
        rc = main(["distill", "--dataset", "sen1floods11", "--root", s1f, "--split", "all", "--teacher", teacher,
                   "--out", str(tmp_path / "bad.pt")] + FAST)
        assert rc == 2 and "was trained on 4 band(s)" in capsys.readouterr().err


def test_cancel_during_first_validation_writes_nothing(tmp_path):
    from floodkd.training.fit.teacher import train_teacher

    with pytest.raises(Cancelled, match=r"epoch 1 \(validation\); no checkpoint was written"):
        train_teacher(TinyPairs(4), tiny_config(tmp_path / "t.pt"), TinyPairs(2, seed=9), CancelAfter(2))
    assert os.listdir(tmp_path) == []


def test_cancel_keeps_an_earlier_run_of_the_same_name_until_the_new_one_publishes(tmp_path):
    from floodkd.training.fit.teacher import train_supervised

    def run(progress=None, **kw):
        return train_supervised(TinyPairs(8, with_s2=False), tiny_config(tmp_path / "supervised.pt", **kw),
                                TinyPairs(2, with_s2=False, seed=9), progress)

    run(epochs=1)
    earlier = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(earlier) == {"supervised.pt", "supervised.last.pt", "supervised.log.json", "supervised.log.csv",
                            "supervised.curves.png"}
    with pytest.raises(Cancelled) as cancelled:
        run(CancelAfter(5), seed=4)  # batch 2 of epoch 2: epoch 1 is complete
    message = str(cancelled.value)
    assert f"{tmp_path / 'supervised.pt'} and the .last.pt, logs and curves beside it are unchanged" in message
    assert f"epoch 1, the last complete one, is kept in {tmp_path / 'supervised.partial.last.pt'}" in message
    assert {n: (tmp_path / n).read_bytes() for n in earlier} == earlier  # not one byte replaced
    assert (tmp_path / "supervised.partial.last.pt").exists()
    resumed = run(seed=4, resume=True)  # continues the cancelled run, then publishes
    assert resumed["history"][0]["epoch"] == 1 and len(resumed["history"]) == 2
    assert (tmp_path / "supervised.pt").read_bytes() != earlier["supervised.pt"]
    assert load_checkpoint(str(tmp_path / "supervised.last.pt"))["resume"]["epoch"] == 2
    assert not [n for n in os.listdir(tmp_path) if ".partial." in n]
