"""Distillation from a Sentinel-1 teacher on real ETCI tiles in dB (the default model's recipe, tiny)."""
import math
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_student_learns_from_an_s1_teacher_on_etci(tmp_path):
    if not (DATA / "etci2021").is_dir():
        pytest.skip(f"real data not available: {DATA / 'etci2021'}")
    import torch

    from floodkd.core.models.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint
    from floodkd.core.models.architectures import build_model
    from floodkd.training.data.etci import S1_DB_BANDS, Etci2021
    from floodkd.training.data.db_augment import DbSamples
    from floodkd.training.fit.student import train_student
    from floodkd.training.fit.trainer import TrainConfig

    etci = Etci2021(str(DATA / "etci2021"))
    etci.tiles, etci.ids = etci.tiles[:8], etci.ids[:8]
    torch.manual_seed(0)
    teacher = build_model("tinyunet", "none", 2, 2, width=8)
    teacher_path = tmp_path / "teacher.pt"
    save_checkpoint(make_checkpoint(teacher, "tinyunet", "none", S1_DB_BANDS, {"width": 8}, role="supervised"),
                    str(teacher_path))
    labelled = DbSamples(etci, S1_DB_BANDS, seed=0, crop=64)
    unlabelled = DbSamples(Etci2021(str(DATA / "etci2021"), labelled=False), S1_DB_BANDS, seed=1, crop=64)
    cfg = TrainConfig(out=str(tmp_path / "student.pt"), arch="tinyunet", encoder="none", model_kwargs={"width": 8},
                      epochs=1, max_steps_per_epoch=2, batch_size=4, crop=64, teacher=str(teacher_path),
                      temperature=2.0, hard_weight=0.5, brightness=0.0, contrast=0.0, device="cpu")
    result = train_student(labelled, unlabelled, cfg, DbSamples(etci, S1_DB_BANDS, train=False))
    row = result["history"][-1]
    assert math.isfinite(row["loss"]) and row["kd"] >= 0 and "hard" in row
    ckpt = load_checkpoint(str(tmp_path / "student.pt"))
    assert ckpt["role"] == "student" and ckpt["arch"] == "tinyunet"
    assert [(b.name, b.low, b.high) for b in S1_DB_BANDS] == [(b["name"], b["low"], b["high"]) for b in ckpt["bands"]]
