"""A new desktop user's first runs through Processing: what is refused before Run, and in QGIS's words.

No PyTorch is simulated by making core's runtime check (core/predict/runtimes.installed)
answer "not installed" for torch, as on Debian's Python with only onnxruntime.
"""
import math
import os
import re

import pytest

pytest.importorskip("qgis.core")
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingException  # noqa: E402

from .conftest import REPO  # noqa: E402

SEN1FLOODS11 = (REPO / ".." / "shared" / "data" / "sen1floods11").resolve()
DIALOG = "Raster > floodkd > Install Python dependencies"
CLI_WORDS = re.compile(r"`floodkd|floodkd (export-onnx|train-|distill|evaluate|segment)|scripts/setup\.sh|"
                       r"requirements\.txt|(?<![\w-])--[a-z]|with_s2|label_source")


def check(alg_id, params):
    alg = QgsApplication.processingRegistry().algorithmById(alg_id)
    return alg.checkParameterValues(params, QgsProcessingContext())


def run(alg, params):
    import processing

    return processing.run(f"floodkd:{alg}", params)


@pytest.fixture
def no_torch(monkeypatch):
    from floodkd.core.predict import runtimes

    real = runtimes.installed
    monkeypatch.setattr(runtimes, "installed", lambda m: m.split(".")[0] not in (
        "torch", "segmentation_models_pytorch") and real(m))


def test_without_pytorch_a_pt_model_training_and_export_are_refused_before_run(
        provider, no_torch, spain_s1, tiny_s1_checkpoint, tmp_path):
    out = str(tmp_path / "o.tif")
    refusals = {
        "segment": check("floodkd:segment", {"INPUT": str(spain_s1), "MODEL": str(tiny_s1_checkpoint), "OUTPUT": out}),
        "trainsupervised": check("floodkd:trainsupervised", {"ROOT": str(SEN1FLOODS11),
                                                             "OUTPUT": str(tmp_path / "s.pt")}),
        "exportonnx": check("floodkd:exportonnx", {"INPUT": str(tiny_s1_checkpoint), "OUTPUT": str(tmp_path / "m.onnx")}),
    }
    for alg, (ok, message) in refusals.items():
        assert not ok and "PyTorch" in message and DIALOG in message, (alg, message)
        assert not CLI_WORDS.search(message) and "otsu" not in message.lower(), (alg, message)
    with pytest.raises(QgsProcessingException, match="Install Python dependencies"):
        run("exportonnx", {"INPUT": str(tiny_s1_checkpoint), "OUTPUT": str(tmp_path / "m.onnx")})
    assert os.listdir(tmp_path) == []
    # what needs no PyTorch still runs: the bundled .onnx, and a .pt with METHOD otsu is not loaded
    assert check("floodkd:segment", {"INPUT": str(spain_s1), "OUTPUT": out}) == (True, "")
    assert check("floodkd:segment", {"INPUT": str(spain_s1), "MODEL": str(tiny_s1_checkpoint), "METHOD": 2,
                                     "OUTPUT": out}) == (True, "")


def test_a_missing_package_met_while_running_points_to_the_dialog(monkeypatch):
    import importlib

    from floodkd.core.errors import require_torch
    from floodkd.processing_provider.feedback import run_core

    def absent(name, *args):
        raise ModuleNotFoundError(f"No module named '{name}'", name=name)

    monkeypatch.setattr(importlib, "import_module", absent)
    with pytest.raises(QgsProcessingException) as raised:
        run_core(require_torch)  # core's advice: scripts/setup.sh, requirements.txt, method 'otsu'
    message = str(raised.value)
    assert message.startswith("PyTorch is not installed in QGIS's Python") and DIALOG in message
    assert not CLI_WORDS.search(message) and "otsu" not in message


@pytest.mark.parametrize("suffix, content", [(".pt", b"PK\x03\x04 not a zip"), (".onnx", os.urandom(512))])
def test_corrupt_models_are_explained_without_command_lines(provider, spain_s1, tmp_path, suffix, content):
    model = tmp_path / f"broken{suffix}"
    model.write_bytes(content)
    with pytest.raises(QgsProcessingException) as raised:
        run("segment", {"INPUT": str(spain_s1), "MODEL": str(model), "OUTPUT": str(tmp_path / "o.tif")})
    message = str(raised.value)
    assert str(model) in message and not CLI_WORDS.search(message), message
    assert not (tmp_path / "o.tif").exists()


def test_cli_words_become_parameters_and_algorithms():
    from floodkd.core.models.checkpoint import NOT_FOUND_HINTS
    from floodkd.processing_provider.messages import for_qgis

    texts = {role: for_qgis(hint) for role, hint in NOT_FOUND_HINTS.items()}
    assert texts["teacher"] == "Give the .pt file written by 'Train the S1+S2 teacher' as TEACHER."
    assert texts["evaluate"].endswith("or use METHOD otsu for the Otsu baseline.")
    assert texts["resume"] == "Start without RESUME, or give the .last.pt file of an earlier run."
    assert not any(CLI_WORDS.search(t) for t in texts.values()), texts
    assert for_qgis("see /data/a--b/x.tif") == "see /data/a--b/x.tif"  # paths are left alone


def test_a_model_that_is_not_a_model_file_gets_floodkd_s_message(provider, spain_s1, tmp_path):
    text = tmp_path / "x.txt"
    text.write_text("not a model")
    for alg, params in (("floodkd:segment", {"INPUT": str(spain_s1), "OUTPUT": str(tmp_path / "o.tif")}),
                        ("floodkd:evaluate", {"ROOT": str(SEN1FLOODS11)})):
        ok, message = check(alg, {**params, "MODEL": str(text)})
        assert not ok and message.startswith(f"MODEL {text} is not a floodkd model"), (alg, message)
        assert ".onnx" in message and "Incorrect parameter value" not in message


def test_a_split_without_chips_names_no_internal_parameter(provider):
    if not SEN1FLOODS11.exists():
        pytest.skip(f"real data not available: {SEN1FLOODS11}")
    with pytest.raises(QgsProcessingException) as raised:  # no 'train' chip is in the shared data
        run("evaluate", {"ROOT": str(SEN1FLOODS11), "SPLIT": "train", "METHOD": 1})
    message = str(raised.value)
    assert "split 'train'" in message and "choose another split" in message
    assert not CLI_WORDS.search(message), message


def test_evaluate_has_the_fixed_threshold_method_after_the_others(provider):
    from floodkd.training.data.catalog import open_evaluation_dataset
    from floodkd.training.evaluation.scoring import evaluate

    if not SEN1FLOODS11.exists():
        pytest.skip(f"real data not available: {SEN1FLOODS11}")
    alg = QgsApplication.processingRegistry().algorithmById("floodkd:evaluate")
    assert alg.parameterDefinition("METHOD").options() == ["model", "otsu", "threshold"]  # ids never renumbered
    result = run("evaluate", {"ROOT": str(SEN1FLOODS11), "SPLIT": "test", "METHOD": 2})
    expected = evaluate(open_evaluation_dataset("sen1floods11", str(SEN1FLOODS11), "test", False), "threshold")
    assert result["N_CHIPS"] == expected["n_chips"] == 2
    assert math.isclose(result["WATER_IOU"], expected["water_iou"], rel_tol=1e-9)
    otsu = run("evaluate", {"ROOT": str(SEN1FLOODS11), "SPLIT": "test", "METHOD": 1})
    assert not math.isclose(otsu["WATER_IOU"], result["WATER_IOU"])  # a different method, not Otsu again
