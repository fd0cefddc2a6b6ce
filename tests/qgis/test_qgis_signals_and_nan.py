"""qgis_process and the CLI stopped by SIGTERM/SIGHUP leave no temporary or lock file; a NaN model fails
qgis_process naming it with nothing published; the worker publishes .qml styles with the products (issue 16)."""
import os
import signal
import subprocess
import sys
import time

import pytest



def stop_when_staged(proc, folder, signum, timeout=120):
    """Send ``signum`` once the run has staged a file in ``folder``; return (returncode, output)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if any(n.startswith(".floodkd-") and n.endswith(".part") for n in os.listdir(folder)):
            proc.send_signal(signum)
            break
        time.sleep(0.02)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out + err


def test_sigterm_on_qgis_process_leaves_no_temporary_or_lock_files(qgis_process, spain_s1, tiny_s1_checkpoint,
                                                                   tmp_path):
    slow = {"METHOD": 1, "MODEL": tiny_s1_checkpoint, "TILE": 64, "OVERLAP": 48}  # 1000 network tiles: seconds
    args = [f"{k}={v}" for k, v in {**slow, "INPUT": spain_s1, "OUTPUT": tmp_path / "o.tif"}.items()]
    proc = subprocess.Popen([qgis_process.command, "run", "floodkd:segment", "--", *args], text=True,
                            env=qgis_process.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    code, text = stop_when_staged(proc, tmp_path, signal.SIGTERM)
    assert code != 0 and "stopped by SIGTERM" in text, text
    assert os.listdir(tmp_path) == [], text


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_sighup_and_sigterm_on_the_cli_leave_no_temporary_or_lock_files(spain_s1, tmp_path, signum):
    proc = subprocess.Popen([sys.executable, "-m", "floodkd.cli", "segment", str(spain_s1), str(tmp_path / "o.tif"),
                             "--method", "otsu", "--tile", "2", "--overlap", "0", "--stats",
                             str(tmp_path / "s.csv")], text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    code, text = stop_when_staged(proc, tmp_path, signum)
    assert code == 130, text
    assert os.listdir(tmp_path) == [], text


@pytest.fixture
def nan_model(tiny_s1_checkpoint, tmp_path):
    import torch

    from floodkd.core.models.checkpoint import save_checkpoint

    ckpt = torch.load(tiny_s1_checkpoint, weights_only=True)
    name = next(k for k in ckpt["state_dict"] if k.endswith("running_var"))
    ckpt["state_dict"][name] = -torch.ones_like(ckpt["state_dict"][name])
    path = tmp_path / "models" / "negative_variance.pt"
    path.parent.mkdir()
    save_checkpoint(ckpt, str(path))
    return path


def test_nan_probabilities_fail_qgis_process_naming_the_model(qgis_process, spain_s1, nan_model, tmp_path):
    out = tmp_path / "out"
    proc = qgis_process("run", "floodkd:segment", "--", f"INPUT={spain_s1}", f"OUTPUT={out / 'o.tif'}",
                        f"MODEL={nan_model}", "METHOD=1", f"OUTPUT_PROBABILITY={out / 'p.tif'}")
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "NaN or infinite water probabilities" in text and str(nan_model) in text, text
    assert not out.exists() or os.listdir(out) == []


def test_the_worker_publishes_styles_with_the_products_never_through_a_link(qgis_app, spain_s1, tiny_s1_checkpoint,
                                                                             tmp_path):
    from floodkd.core.progress import Progress
    from floodkd.core.segment import SegmentOptions
    from floodkd.processing_provider import worker_runner
    from floodkd.processing_provider.styling import style_staged
    from floodkd.worker import jobs

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "o.qml").symlink_to(victim)
    options = SegmentOptions(method="model", model=str(tiny_s1_checkpoint), device="cpu")
    args = jobs.segment_args(str(spain_s1), str(out / "o.tif"), options, str(out / "p.tif"))
    worker_runner._segment_in_worker(args, Progress(), style_staged)
    assert victim.read_text() == "precious"
    assert not (out / "o.qml").is_symlink() and "paletted" in (out / "o.qml").read_text()
    assert "singlebandpseudocolor" in (out / "p.qml").read_text()
    assert sorted(os.listdir(out)) == ["o.qml", "o.tif", "p.qml", "p.tif"]
    # a failing run publishes no style either
    with pytest.raises(Exception):
        worker_runner._segment_in_worker(jobs.segment_args(str(spain_s1), str(tmp_path / "new" / "o.tif"),
                                                           SegmentOptions(method="model", model=str(tmp_path / "x.pt"),
                                                                          device="cpu")), Progress(), style_staged)
    assert not (tmp_path / "new").exists()


@pytest.fixture
def dataset(writable_sen1floods11):
    return writable_sen1floods11


@pytest.mark.parametrize("output", ["OUTPUT_CSV", "OUTPUT_JSON"])
def test_qgis_evaluate_never_writes_over_a_label(qgis_process, dataset, output):
    label = dataset / "LabelHand" / "Bolivia_312675_LabelHand.tif"
    before = label.read_bytes()
    proc = qgis_process("run", "floodkd:evaluate", "--", "DATASET=0", f"ROOT={dataset}", "SPLIT=bolivia",
                        "METHOD=1", f"{output}={label}")
    assert proc.returncode != 0 and "is a file of the dataset" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert label.read_bytes() == before


def test_qgis_training_never_writes_over_a_label(qgis_process, dataset):
    label = dataset / "LabelHand" / "Bolivia_312675_LabelHand.tif"
    before = label.read_bytes()
    proc = qgis_process("run", "floodkd:trainsupervised", "--", "DATASET=0", f"ROOT={dataset}", "SPLIT=bolivia",
                        "EPOCHS=1", f"OUTPUT={label}")
    assert proc.returncode != 0 and "is a file of the dataset" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert label.read_bytes() == before
