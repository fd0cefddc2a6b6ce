"""Two-process DistributedDataParallel training under torchrun (gloo, CPU)."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():  # pragma: no cover - depends on the build
    pytest.skip("torch.distributed is not available in this torch build", allow_module_level=True)

HERE = Path(__file__).resolve().parent

WORKER = textwrap.dedent("""
    import importlib.util, os, sys
    import torch
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("tiny", sys.argv[1])
    tiny = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny)
    from floodkd.training.fit.teacher import train_teacher

    out = sys.argv[2]
    rank = int(os.environ["RANK"])
    assert int(os.environ["WORLD_SIZE"]) == 2
    # 8 chips over 2 ranks, 2 per batch: 2 steps per epoch on each rank
    cfg = tiny.tiny_config(os.path.join(out, "ddp.pt"), epochs=1, batch_size=2, crop=32)
    result = train_teacher(tiny.TinyPairs(8), cfg, tiny.TinyPairs(3, seed=9))
    state = {k: v.detach().cpu() for k, v in result["model"].state_dict().items()}
    torch.save({"state": state, "history": result["history"]}, os.path.join(out, f"rank{rank}.state"))
""")


def test_two_processes_end_with_identical_weights_and_one_checkpoint(tmp_path):
    from floodkd.core.models.checkpoint import load_checkpoint

    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    out = tmp_path / "run"
    out.mkdir()
    env = dict(os.environ, OMP_NUM_THREADS="1", WORLD_SIZE="", RANK="", LOCAL_RANK="")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(script), str(HERE / "test_trainers.py"), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r0 = torch.load(out / "rank0.state", weights_only=True)
    r1 = torch.load(out / "rank1.state", weights_only=True)
    assert r0["state"].keys() == r1["state"].keys()
    for key in r0["state"]:
        assert torch.equal(r0["state"][key], r1["state"][key]), key
    # losses and validation IoU are reduced over both ranks, so both logs agree
    drop_time = [{k: v for k, v in row.items() if k != "seconds"} for row in r0["history"] + r1["history"]]
    assert drop_time[0] == drop_time[1]
    assert r0["history"][0]["step"] == 2
    written = sorted(p.name for p in out.iterdir() if not p.name.endswith(".state"))
    assert written == ["ddp.curves.png", "ddp.last.pt", "ddp.log.csv", "ddp.log.json", "ddp.pt"]
    ckpt = load_checkpoint(str(out / "ddp.last.pt"))
    for key, value in ckpt["state_dict"].items():
        assert torch.equal(value, r0["state"][key]), key
    assert ckpt["metrics"]["val_valid_pixels"] == 3 * 40 * 40   # every validation chip counted once
