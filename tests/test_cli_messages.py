"""Issue 9: bad options, extents and labels get a clear message (exit 2), never a traceback or wrong advice."""
import os
import shutil
import sys

import numpy as np
import pytest
import rasterio

from floodkd.core.errors import FloodKDError, MissingDependency, require_module
from floodkd.cli.main import main

OTSU = ["--method", "otsu"]


def segment(capsys, *args):
    code = main(["segment", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("args,message", [
    (["--tile", "0"], "TILE must be a positive number"),
    (["--tile", "-8"], "TILE must be a positive number"),
    (["--batch-size", "-1"], "BATCH_SIZE must be 0"),
    (["--threads", "-2"], "THREADS must be 0"),
    (["--threshold", "nan"], "THRESHOLD must be a probability"),
    (["--bbox", "nan,38.09,-0.75,38.11"], "four finite numbers"),
    (["--bbox", "-0.77,38.09,inf,38.11"], "four finite numbers"),
    (["--bbox", "-0.77,38.09,-0.75,38.11", "--bbox-crs", "EPSG:999999"], "is not a valid CRS"),
    (["--bbox", "-0.77,38.09,-0.75,38.11", "--bbox-crs", "not a crs"], "is not a valid CRS"),
])
def test_bad_options_are_refused_before_any_output(spain_s1, tmp_path, capsys, args, message):
    code, _, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), *OTSU, *args)
    assert code == 2 and message in err and "Traceback" not in err
    assert "OVERLAP" not in err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("form", ["space", "equals"])
def test_bbox_starting_with_a_negative_number_parses(spain_s1, tmp_path, capsys, form):
    bbox = "-0.77,38.09,-0.75,38.11"  # lon/lat of a part of the Spain chip, west of Greenwich
    args = ["--bbox", bbox] if form == "space" else [f"--bbox={bbox}"]
    code, out, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), *OTSU, *args, "--bbox-crs", "EPSG:4326")
    assert code == 0, err
    with rasterio.open(tmp_path / "o.tif") as ds, rasterio.open(spain_s1) as src:
        assert 0 < ds.width < src.width and 0 < ds.height < src.height


def test_small_tile_warns_that_it_is_slow(spain_s1, tmp_path, capsys):
    code, _, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), *OTSU, "--tile", "32", "--overlap", "4")
    assert code == 0 and "TILE 32 px is very small" in err


def test_huge_thread_count_is_capped_not_misreported(spain_s1, tiny_s1_checkpoint, tmp_path, capsys):
    code, _, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), "--model", str(tiny_s1_checkpoint),
                           "--threads", "100000", "--device", "cpu")
    assert code == 0, err
    assert "THREADS 100000 is far more than" in err and "not installed" not in err


def test_only_an_absent_package_is_called_not_installed(tmp_path, monkeypatch):
    (tmp_path / "floodkd_broken_pkg.py").write_text("raise MemoryError('no room for threads')\n")
    (tmp_path / "floodkd_needs_dep.py").write_text("import floodkd_absent_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingDependency, match="install me"):
        require_module("floodkd_absent_pkg", "install me")
    with pytest.raises(FloodKDError, match="installed but could not be imported.*MemoryError") as broken:
        require_module("floodkd_broken_pkg", "install me")
    assert not isinstance(broken.value, MissingDependency)
    with pytest.raises(FloodKDError, match="needs floodkd_absent_dependency"):
        require_module("floodkd_needs_dep", "install me")
    for name in ("floodkd_broken_pkg", "floodkd_needs_dep"):
        sys.modules.pop(name, None)


def test_out_of_memory_is_a_message(spain_s1, tmp_path, capsys, monkeypatch):
    from floodkd.core import segment as engine

    def exhausted(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(engine, "_run_strips", exhausted)
    code, _, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), *OTSU)
    assert code == 2 and "out of memory" in err and "--tile" in err
    assert not (tmp_path / "o.tif").exists()


def test_input_without_crs_warns_and_reports_unknown_areas(spain_s1, tmp_path, capsys):
    with rasterio.open(spain_s1) as src:
        profile, data = src.profile, src.read()
    profile.update(crs=None)
    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    code, out, err = segment(capsys, str(path), str(tmp_path / "o.tif"), *OTSU)
    assert code == 0 and "has no CRS" in err and "water unknown km2 of unknown km2" in out
    code, out, err = segment(capsys, str(path), str(tmp_path / "p.tif"), *OTSU,
                             "--bbox", "-0.77,38.09,-0.75,38.11", "--bbox-crs", "EPSG:4326")
    assert code == 2 and "has no CRS, so an extent in EPSG:4326 cannot be placed" in err
    assert not (tmp_path / "p.tif").exists()


def pairs_folder(tmp_path, label_chip):
    data = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "sen1floods11")
    spain = os.path.join(data, "S1Hand", "Spain_7370579_S1Hand.tif")
    label = os.path.join(data, "LabelHand", f"{label_chip}_LabelHand.tif")
    if not (os.path.exists(spain) and os.path.exists(label)):
        pytest.skip("real data not available: ../shared/data/sen1floods11")
    root = tmp_path / label_chip
    (root / "S1").mkdir(parents=True)
    (root / "label").mkdir()
    shutil.copy(spain, root / "S1" / "chip.tif")
    shutil.copy(label, root / "label" / "chip.tif")
    return str(root)


def test_evaluate_refuses_a_label_from_another_place(tmp_path, capsys):
    args = ["evaluate", "--dataset", "pairs", "--method", "otsu", "--json"]
    assert main([*args, "--root", pairs_folder(tmp_path, "Spain_7370579")]) == 0
    capsys.readouterr()
    assert main([*args, "--root", pairs_folder(tmp_path, "India_900498")]) == 2  # same size, 512 x 512
    err = capsys.readouterr().err
    assert "not the same place" in err


@pytest.mark.parametrize("threshold", ["1.5", "-0.1", "nan"])
def test_evaluate_refuses_thresholds_segment_refuses(tmp_path, capsys, threshold):
    root = pairs_folder(tmp_path, "Spain_7370579")
    assert main(["evaluate", "--dataset", "pairs", "--root", root, "--method", "otsu",
                 "--threshold", threshold]) == 2
    assert "THRESHOLD must be a probability in [0, 1]" in capsys.readouterr().err


def test_label_on_the_same_grid_within_half_a_pixel_is_accepted(tmp_path):
    from floodkd.training.data.datasets import check_same_grid

    root = pairs_folder(tmp_path, "Spain_7370579")
    s1 = os.path.join(root, "S1", "chip.tif")
    with rasterio.open(s1) as src:
        profile, transform = src.profile, src.transform
    shifted = os.path.join(root, "shifted.tif")
    for fraction, ok in ((0.4, True), (0.6, False)):
        profile.update(count=1, dtype="int16", nodata=None,
                       transform=transform * rasterio.Affine.translation(fraction, 0))
        with rasterio.open(shifted, "w", **profile) as dst:
            dst.write(np.zeros((1, profile["height"], profile["width"]), np.int16))
        if ok:
            check_same_grid(s1, shifted)
        else:
            with pytest.raises(FloodKDError, match="not the same place"):
                check_same_grid(s1, shifted)


def test_segment_change_names_the_pre_flood_scene_not_a_temp_file(spain_s1, india_s1, tmp_path, capsys):
    code = main(["segment-change", "--pre-flood", str(india_s1), str(spain_s1), str(tmp_path / "o.tif"), *OTSU])
    err = capsys.readouterr().err
    assert code == 2 and f"PRE_FLOOD layer {india_s1} does not overlap" in err and ".floodkd-" not in err
    assert os.listdir(tmp_path) == []
