"""What a user sees in the floodkd dialogs: help for every parameter, a help button
that opens the shipped README at the right section, inputs refused before Run, and
a checkpoint exported to ONNX from the toolbox that segment then runs."""
import re
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import rasterio

pytest.importorskip("qgis.core")
from qgis.core import (QgsApplication, QgsProcessingContext, QgsProcessingException,  # noqa: E402
                       QgsProcessingFeedback)

REPO = Path(__file__).resolve().parents[2]
HELP_LINE = re.compile(r"<b>(?P<label>.*?)</b> \((?P<name>[A-Z0-9_]+)\): (?P<text>.*)")


def algorithms():
    return [a for a in QgsApplication.processingRegistry().algorithms() if a.provider().id() == "floodkd"]


def run(alg, params):
    import processing

    return processing.run(f"floodkd:{alg}", params)


def github_anchor(heading):
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_parameter_of_every_algorithm_is_explained(provider):
    algs = algorithms()
    assert {a.name() for a in algs} >= {"segment", "segmentchange", "evaluate", "trainteacher",
                                        "trainsupervised", "distillstudent", "exportonnx"}
    for alg in algs:
        lines = {m["name"]: m for m in map(HELP_LINE.match, alg.shortHelpString().split("\n")) if m}
        for param in alg.parameterDefinitions():
            assert param.name() in lines, f"{alg.id()}: {param.name()} is not in the help"
            line = lines[param.name()]
            assert line["label"] == param.description()
            assert len(line["text"].strip()) > 10, f"{alg.id()}: {param.name()} has no help text"
        assert "while none is bundled" not in alg.shortHelpString()


def test_help_button_opens_the_shipped_readme_at_an_existing_section(provider):
    headings = [line.lstrip("#") for line in (REPO / "README.md").read_text().splitlines() if line.startswith("#")]
    anchors = {github_anchor(h) for h in headings}
    for alg in algorithms():
        url = urlparse(alg.helpUrl())
        assert url.scheme == "file" and Path(url.path) == REPO / "README.md", alg.helpUrl()
        assert url.fragment in anchors, f"{alg.id()}: no README section #{url.fragment}"


def test_segmentchange_help_and_order(provider):
    alg = QgsApplication.processingRegistry().algorithmById("floodkd:segmentchange")
    names = [p.name() for p in alg.parameterDefinitions()]
    assert names.index("PRE_FLOOD") == names.index("INPUT") + 1
    lines = {m["name"]: m["text"] for m in map(HELP_LINE.match, alg.shortHelpString().split("\n")) if m}
    assert "1 flood (water now, not before), 2 permanent water" in lines["OUTPUT"]
    assert "1 water" not in alg.shortHelpString()  # segment's own classes would contradict these


def check(alg_id, params):
    alg = QgsApplication.processingRegistry().algorithmById(alg_id)
    return alg.checkParameterValues(params, QgsProcessingContext())


def test_inputs_are_checked_before_run(provider, spain_s1, india_s1, make_raster, tmp_path):
    one_band = make_raster(tmp_path / "vv.tif", np.full((1, 16, 16), -12, np.float32))
    out = str(tmp_path / "o.tif")
    assert check("floodkd:segment", {"INPUT": str(spain_s1), "OUTPUT": out}) == (True, "")
    ok, message = check("floodkd:segment", {"INPUT": str(one_band), "OUTPUT": out})
    assert not ok and "has 1 band(s)" in message and "VV, VH" in message
    ok, message = check("floodkd:segment", {"INPUT": str(spain_s1), "TILE": 128, "OVERLAP": 128, "OUTPUT": out})
    assert not ok and "smaller than the tile size" in message
    ok, message = check("floodkd:segment", {"INPUT": str(spain_s1), "MODEL": str(tmp_path / "m.pt"), "OUTPUT": out})
    assert not ok and "does not exist" in message
    change = {"INPUT": str(spain_s1), "PRE_FLOOD": str(india_s1), "OUTPUT": out}
    assert check("floodkd:segmentchange", change) == (True, "")
    ok, message = check("floodkd:segmentchange", {**change, "PRE_FLOOD": str(spain_s1)})
    assert not ok and "same file" in message
    ok, message = check("floodkd:segmentchange", {**change, "PRE_FLOOD": str(one_band)})
    assert not ok and message.startswith("PRE_FLOOD")
    with pytest.raises(QgsProcessingException, match="same file"):  # processing.run checks too
        run("segmentchange", {**change, "PRE_FLOOD": str(spain_s1)})
    assert not (tmp_path / "o.tif").exists()


def test_training_checkpoints_default_to_a_real_folder(provider):
    home = Path.home()
    for name in ("trainteacher", "trainsupervised", "distillstudent", "exportonnx"):
        alg = QgsApplication.processingRegistry().algorithmById(f"floodkd:{name}")
        default = Path(alg.parameterDefinition("OUTPUT").defaultValue())
        assert default.parent == home / "floodkd" / "models", default


def test_checkpoint_exported_from_the_toolbox_runs_in_segment(provider, tiny_s1_checkpoint, spain_s1, tmp_path):
    pytest.importorskip("onnx")
    onnx_path = tmp_path / "models" / "tiny.onnx"
    result = run("exportonnx", {"INPUT": str(tiny_s1_checkpoint), "OUTPUT": str(onnx_path)})
    assert result["OUTPUT"] == str(onnx_path) and onnx_path.exists()
    assert "VV" in result["SUMMARY"] and "water" in result["SUMMARY"]
    out = tmp_path / "water.tif"
    result = run("segment", {"INPUT": str(spain_s1), "MODEL": str(onnx_path), "DEVICE": 1, "OUTPUT": str(out)})
    assert result["USED_METHOD"] == "model"
    with rasterio.open(out) as ds:
        assert ds.tags()["FLOODKD_MODEL"] == str(onnx_path) and ds.nodata == 255
    # evaluate takes the .onnx too, and scores it as the checkpoint it came from
    root = spain_s1.parents[1]
    by_runtime = {p.suffix: run("evaluate", {"ROOT": str(root), "SPLIT": "test", "MODEL": str(p), "DEVICE": 1})
                  for p in (tiny_s1_checkpoint, onnx_path)}
    assert by_runtime[".onnx"]["N_CHIPS"] == by_runtime[".pt"]["N_CHIPS"] == 2
    assert abs(by_runtime[".onnx"]["WATER_IOU"] - by_runtime[".pt"]["WATER_IOU"]) < 1e-3


def test_evaluate_without_model_scores_the_bundled_default(provider, spain_s1, tmp_path):
    import json

    from floodkd.core.predict.model_choice import bundled_model

    result = run("evaluate", {"ROOT": str(spain_s1.parents[1]), "SPLIT": "test", "DEVICE": 1,
                              "OUTPUT_JSON": str(tmp_path / "m.json")})
    details = json.loads((tmp_path / "m.json").read_text())
    assert details["method"] == "model" and details["model"] == bundled_model()  # what segment's empty MODEL runs
    assert result["N_CHIPS"] >= 2 and 0.0 <= result["WATER_IOU"] <= 1.0


def test_export_refuses_a_destination_that_is_not_onnx(provider, tiny_s1_checkpoint, tmp_path):
    ok, message = check("floodkd:exportonnx", {"INPUT": str(tiny_s1_checkpoint), "OUTPUT": str(tmp_path / "m.pt")})
    assert not ok and ".onnx" in message


class Texts(QgsProcessingFeedback):
    """Records the progress texts (the dialog shows each one and copies it into its log)."""

    def __init__(self):
        super().__init__()
        self.texts = []

    def setProgressText(self, text):  # noqa: N802 (QGIS API)
        self.texts.append(text)
        super().setProgressText(text)


def test_progress_text_keeps_up_with_the_bar():
    """The text once lagged the bar by up to 5 s (50 of 90 tiles on a fast run)."""
    from floodkd.processing_provider.feedback import FeedbackProgress

    now, feedback = [0.0], Texts()
    progress = FeedbackProgress(feedback, clock=lambda: now[0])  # the dialog's defaults
    progress.report(0.0, "loading the model")
    for tile in range(1, 91):  # fast: a tile every 0.1 s
        now[0] = 0.1 * tile
        progress.report(tile / 90, f"segmenting: tile {tile} of 90")
        shown = re.search(r"tile (\d+)", feedback.texts[-1])
        assert tile / 90 - (int(shown[1]) / 90 if shown else 0.0) < 0.02 + 1e-9, (tile, feedback.texts[-1])
    assert len(feedback.texts) <= 1 + 50  # not every tile into the dialog's log
    changed_at = now[0]
    for step in range(1, 30):  # slow: the bar barely moves, the count changes every 0.4 s
        now[0] += 0.4
        progress.report(0.5 + step / 1000, f"epoch 1/2 loss {step}")
        if feedback.texts[-1] == f"epoch 1/2 loss {step}":
            changed_at = now[0]
        assert now[0] - changed_at < 1.0 + 1e-9
    assert feedback.texts[-1] != "segmenting: tile 90 of 90"  # a new stage shows at once


def test_progress_text_says_what_is_happening(provider, spain_s1, tmp_path):
    import processing

    feedback = Texts()
    processing.run("floodkd:segment", {"INPUT": str(spain_s1), "TILE": 256, "OVERLAP": 32,
                                       "OUTPUT": str(tmp_path / "w.tif")}, feedback=feedback)
    assert feedback.texts[0] == "loading the model"
    tiles = [t for t in feedback.texts if t.startswith("segmenting: tile ")]
    assert tiles and re.match(r"segmenting: tile \d+ of 9\b", tiles[0])  # 512 px: tiles at 0, 224, 256
    assert feedback.texts[-1] == "done"
