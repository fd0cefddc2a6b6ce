"""core/deps.py: what is missing, the pip command of the dependencies dialog, and a real install with it."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from floodkd.core import deps
from floodkd.worker.client import _package_parent

from .conftest import REPO

SYSTEM_PYTHON = "/usr/bin/python3"


def test_pins_are_those_of_requirements_txt():
    lines = (REPO / "requirements.txt").read_text().splitlines()
    required = {re.split("==", line)[0].lower(): line.strip() for line in lines if "==" in line}
    for group in deps.GROUPS.values():
        for pin in group["pins"]:
            assert required[pin.split("==")[0].lower()] == pin


def test_cpu_torch_comes_from_pytorchs_cpu_index_and_numpy_stays_qgis_s():
    cmd = deps.pip_command(["onnx", "torch"], "/p/floodkd-deps/py311", "cpu", python="/usr/bin/python3")
    assert cmd[:6] == ["/usr/bin/python3", "-m", "pip", "install", "--target", "/p/floodkd-deps/py311"]
    assert cmd[cmd.index("--index-url") + 1] == deps.TORCH_CPU_INDEX
    assert cmd[cmd.index("--extra-index-url") + 1] == deps.PYPI
    assert {"onnxruntime==1.31.1", "torch==2.14.1", "segmentation-models-pytorch==0.6.0"} <= set(cmd)
    assert cmd[-1] == f"numpy=={np.__version__}"
    assert "--user" not in cmd and "--break-system-packages" not in cmd


def test_cuda_torch_and_onnx_alone_use_the_default_index():
    assert "--index-url" not in deps.pip_command(["torch"], "/t", "cuda", python="py")
    onnx_only = deps.pip_command(["onnx"], "/t", "cpu", python="py")
    assert "--index-url" not in onnx_only and not any(p.startswith("torch") for p in onnx_only)


def test_onnx_alone_installs_only_what_this_python_lacks():
    have = {"numpy", "packaging"}  # what QGIS's Python has (Debian's: numpy, packaging; no protobuf)
    cmd = deps.pip_command(["onnx"], "/t", python="py", have=lambda module: module in have)
    assert "--no-deps" in cmd
    named = cmd[cmd.index("--no-deps") + 1:]
    assert named == ["onnxruntime==1.31.1", "flatbuffers", "protobuf>=4.25.8"]
    assert not any(arg.startswith(("numpy", "packaging")) for arg in cmd)


def test_onnx_requirements_are_those_of_the_onnxruntime_wheel():
    from importlib.metadata import requires

    pytest.importorskip("onnxruntime")
    wheel = {re.split(r"[<>=!~ ;\[]", r)[0].lower() for r in requires("onnxruntime") if "extra ==" not in r}
    assert {re.split(r"[<>=]", req)[0].lower() for req, _ in deps.ONNX_REQUIRES} == wheel


def test_the_worker_puts_the_deps_folder_first(tmp_path, monkeypatch):
    from floodkd.worker.client import worker_command

    folder = tmp_path / "profile" / "python" / deps.DEPS_FOLDER / "py311"
    folder.mkdir(parents=True)
    monkeypatch.setattr(sys, "path", list(sys.path))
    deps.add_to_path(str(folder))
    numpy_home = os.path.dirname(os.path.dirname(np.__file__))
    assert sys.path.index(str(folder)) > sys.path.index(numpy_home)  # QGIS's process: its numpy first
    paths = worker_command("py")[1]["PYTHONPATH"].split(os.pathsep)
    assert paths.index(str(folder)) < paths.index(numpy_home)  # the worker: torch's requirements first


@pytest.mark.parametrize("groups, variant", [([], "cpu"), (["tensorflow"], "cpu"), (["onnx"], "rocm")])
def test_bad_choices_are_refused(groups, variant):
    with pytest.raises(ValueError, match="unknown"):
        deps.pip_command(groups, "/t", variant, python="py")


def test_folder_is_in_the_profile_per_python_version(tmp_path):
    folder = deps.deps_dir(str(tmp_path))
    assert folder == os.path.join(str(tmp_path), "python", "floodkd-deps",
                                  f"py{sys.version_info.major}{sys.version_info.minor}")


def test_missing_groups_and_add_to_path(tmp_path, monkeypatch):
    monkeypatch.setattr(deps, "installed", lambda name: name != "onnxruntime")
    assert deps.missing_groups() == ["onnx"]
    folder = tmp_path / "deps"
    assert not deps.add_to_path(str(folder))  # absent: nothing added
    folder.mkdir()
    (folder / "floodkd_probe_module.py").write_text("VALUE = 7\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert deps.add_to_path(str(folder)) and sys.path[-1] == str(folder)  # after QGIS's own packages
    assert not deps.add_to_path(str(folder))
    import floodkd_probe_module

    assert floodkd_probe_module.VALUE == 7


def test_advice_names_the_dialog_and_never_the_system_pip():
    text = deps.install_advice("onnx")
    assert "Install Python dependencies" in text and "onnxruntime==1.31.1" in text
    assert "virtual environment" in text and "sudo pip" not in text


@pytest.mark.skipif(subprocess.run([SYSTEM_PYTHON, "-m", "pip", "--version"], capture_output=True).returncode != 0,
                    reason="Debian's python3-pip is not installed")
def test_the_dialogs_command_installs_onnxruntime_for_the_system_python(tmp_path, spain_s1):
    """A desktop user's path: QGIS's Python (Debian's, no torch, no onnxruntime) + the dialog's folder."""
    target = deps.deps_dir(str(tmp_path / "profile"))
    proc = subprocess.run(deps.pip_command(["onnx"], target, python=SYSTEM_PYTHON), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    code = ("import sys; from floodkd.core.deps import add_to_path; add_to_path(sys.argv[1]); "
            "from floodkd.core.segment import segment_scene; r = segment_scene(sys.argv[2], sys.argv[3]); "
            "print(r.predictor.get('runtime'), r.water_pixels, 'torch' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=_package_parent(), PYTHONNOUSERSITE="1")
    run = subprocess.run([SYSTEM_PYTHON, "-c", code, target, str(spain_s1), str(tmp_path / "w.tif")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    runtime, water, torch_loaded = run.stdout.split()
    assert runtime == "onnxruntime" and int(water) > 0 and torch_loaded == "False"
