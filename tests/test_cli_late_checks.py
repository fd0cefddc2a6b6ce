"""Options and inputs checked before any work, with clear messages and no tracebacks (issue 16, minor list)."""
import os
import stat

import numpy as np
import pytest
import rasterio

from floodkd.cli.main import main


def run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("extra,message", [
    (["--min-area", "-1", "--polygons", "w.gpkg"], "MIN_AREA (--min-area) must be a finite number >= 0"),
    (["--min-area", "nan", "--polygons", "w.gpkg"], "MIN_AREA (--min-area) must be a finite number >= 0"),
    (["--permanent-water", "PW", "--permanent-water-threshold", "nan"], "permanent-water threshold"),
    (["--device", "banana"], "unknown DEVICE 'banana'"),
    (["--dem", "SCENE"], "DEM (--dem) SCENE is the SAR scene itself"),
    (["--permanent-water", "SCENE"], "PERMANENT_WATER (--permanent-water) SCENE is the SAR scene itself"),
])
def test_bad_options_are_refused_before_any_work(capsys, scene_copy, tmp_path, extra, message):
    extra = [str(scene_copy) if a in ("SCENE", "PW") else str(tmp_path / a) if a.endswith(".gpkg") else a
             for a in extra]
    before = sorted(os.listdir(tmp_path))
    code, text = run(capsys, "segment", scene_copy, tmp_path / "o.tif", "--method", "otsu", *extra)
    assert code == 2 and message.replace("SCENE", str(scene_copy)) in text and "Traceback" not in text, text
    assert "segmenting" not in text  # refused before any tile
    assert sorted(os.listdir(tmp_path)) == before


def test_a_huge_bbox_is_the_whole_scene(capsys, spain_s1, tmp_path):
    code, text = run(capsys, "segment", spain_s1, tmp_path / "o.tif", "--method", "otsu",
                     "--bbox", "-1e308,-1e308,1e308,1e308")
    assert code == 0, text
    with rasterio.open(spain_s1) as a, rasterio.open(tmp_path / "o.tif") as b:
        assert (a.width, a.height, a.transform) == (b.width, b.height, b.transform)


def test_a_non_utf8_file_name_is_a_clear_error(capsys, spain_s1, tmp_path):
    name = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"sc\xe9ne.tif"))
    with open(name, "wb") as fh:
        fh.write(spain_s1.read_bytes())
    code, text = run(capsys, "segment", name, tmp_path / "o.tif", "--method", "otsu")
    assert code == 2 and "is not valid UTF-8" in text and "Traceback" not in text, text


@pytest.mark.parametrize("output", ["/vsimem/floodkd_probe/o.tif", "/vsizip//tmp/floodkd_probe.zip/o.tif"])
def test_gdal_virtual_outputs_are_refused_up_front(capsys, spain_s1, output):
    code, text = run(capsys, "segment", spain_s1, output, "--method", "otsu")
    assert code == 2 and "is not a path on disk" in text, text
    assert not os.path.exists("/vsimem") and not os.path.exists("/vsizip") and not os.path.exists(
        "/tmp/floodkd_probe.zip")


def test_a_write_protected_earlier_output_is_refused_and_keeps_its_mode(capsys, spain_s1, tmp_path):
    out = tmp_path / "o.tif"
    assert run(capsys, "segment", spain_s1, out, "--method", "otsu")[0] == 0
    out.chmod(0o444)
    before = out.read_bytes()
    code, text = run(capsys, "segment", spain_s1, out, "--method", "otsu")
    assert code == 2 and "write-protected" in text
    assert out.read_bytes() == before and stat.S_IMODE(out.stat().st_mode) == 0o444


def test_gtiff_dir_syntax_is_read(capsys, spain_s1, tmp_path):
    code, text = run(capsys, "segment", f"GTIFF_DIR:1:{spain_s1}", tmp_path / "o.tif", "--method", "otsu")
    assert code == 0, text


def test_gcp_georeferenced_input_is_refused_with_the_warp_advice(capsys, spain_s1, tmp_path):
    from rasterio.control import GroundControlPoint
    from rasterio.crs import CRS

    with rasterio.open(spain_s1) as ds:
        data, profile = ds.read(), ds.profile
    profile.pop("transform"), profile.pop("crs")
    path = tmp_path / "gcp.tif"
    gcps = [GroundControlPoint(row, col, -3.0 + col * 1e-4, 40.0 - row * 1e-4)
            for row, col in ((0, 0), (0, 511), (511, 0), (511, 511))]
    with rasterio.open(path, "w", **profile, gcps=gcps, crs=CRS.from_epsg(4326)) as ds:
        ds.write(data)
    code, text = run(capsys, "segment", path, tmp_path / "o.tif", "--method", "otsu")
    assert code == 2 and "ground control points" in text and "gdalwarp" in text, text
    assert not (tmp_path / "o.tif").exists()


def test_change_mode_refuses_one_scene_as_both_dates(capsys, spain_s1, tmp_path):
    code, text = run(capsys, "segment-change", "--pre-flood", spain_s1, spain_s1, tmp_path / "o.tif",
                     "--method", "otsu")
    assert code == 2 and "PRE_FLOOD" in text and "is the same file as INPUT" in text, text


def reprojected(src, dst, crs="EPSG:32630", crop=None):
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    with rasterio.open(src) as ds:
        transform, width, height = calculate_default_transform(ds.crs, crs, ds.width, ds.height, *ds.bounds)
        profile = dict(ds.profile, crs=crs, transform=transform, width=width, height=height)
        out = np.full((2, height, width), np.nan, np.float32)
        reproject(ds.read(), out, src_transform=ds.transform, src_crs=ds.crs, dst_transform=transform,
                  dst_crs=crs, resampling=Resampling.nearest)
    if crop:
        out[:, :, crop:] = np.nan
    with rasterio.open(dst, "w", **profile) as ds:
        ds.write(out)
    return dst


def test_change_mode_reads_bbox_in_the_post_flood_crs_and_names_the_pre_flood_scene(capsys, spain_s1, tmp_path):
    with rasterio.open(spain_s1) as ds:
        left, bottom, right, top = ds.bounds
        crs_name = ds.crs
    pre = reprojected(spain_s1, tmp_path / "pre_utm.tif", crop=200)  # east part has no data
    dx, dy = (right - left) / 10, (top - bottom) / 10
    bbox = f"{left + dx},{bottom + dy},{right - dx},{top - dy}"  # in the post-flood scene's CRS (degrees)
    code, text = run(capsys, "segment-change", "--pre-flood", pre, spain_s1, tmp_path / "o.tif", "--method", "otsu",
                     f"--bbox={bbox}")
    assert code == 0, text
    assert str(pre) in text and ".floodkd-" not in text, text  # warnings name the scene, not a temporary file
    assert str(crs_name) == "EPSG:4326"


def write_checkpoint(src, dst, change):
    import torch

    from floodkd.core.models.checkpoint import save_checkpoint

    ckpt = torch.load(src, weights_only=True)
    change(ckpt)
    save_checkpoint(ckpt, str(dst))
    return dst


@pytest.mark.parametrize("name,change", [
    ("no_water", lambda c: c.update(classes=["dry", "wet"])),
    ("string_version", lambda c: c.update(format_version="1")),
    ("bands_not_list", lambda c: c.update(bands="VV,VH")),
    ("string_depth", lambda c: c["model_kwargs"].update(encoder_depth="3")),
    ("huge_depth", lambda c: c["model_kwargs"].update(encoder_depth=10 ** 9)),
    ("huge_channels", lambda c: c.update(in_channels=10 ** 9)),
])
def test_malformed_checkpoints_are_clear_errors(capsys, spain_s1, tiny_s1_checkpoint, tmp_path, name, change):
    bad = write_checkpoint(tiny_s1_checkpoint, tmp_path / f"{name}.pt", change)
    code, text = run(capsys, "segment", spain_s1, tmp_path / "o.tif", "--model", bad)
    assert code == 2 and "malformed header" in text and "Traceback" not in text, text


def test_random_bytes_are_not_called_python_objects(capsys, spain_s1, tmp_path):
    bad = tmp_path / "random.pt"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    code, text = run(capsys, "segment", spain_s1, tmp_path / "o.tif", "--model", bad)
    assert code == 2 and "not a PyTorch checkpoint" in text and "Python objects" not in text, text


@pytest.fixture
def exported(exported_onnx):
    return exported_onnx


def small_graph(exported, rank3):
    """A from-scratch graph with the exported model's metadata: a rank-3 input, or (N, 1, H, W) output."""
    import onnx
    from onnx import TensorProto, helper

    from floodkd.core.models.onnx_export import sign_onnx

    if rank3:
        x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", "h", "w"])
        y = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", "h", "w"])
        nodes = [helper.make_node("Sigmoid", ["input"], ["probabilities"])]
    else:
        x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 2, "h", "w"])
        y = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", "c", "h", "w"])
        nodes = [helper.make_node("ReduceMax", ["input"], ["probabilities"], axes=[1], keepdims=1)]
    weight = helper.make_tensor("unused", TensorProto.FLOAT, [1], [1.0])  # floodkd models carry weights
    graph = helper.make_graph(nodes, "odd", [x], [y], initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for prop in onnx.load(str(exported)).metadata_props:
        entry = model.metadata_props.add()
        entry.key, entry.value = prop.key, prop.value
    sign_onnx(model)
    return model


@pytest.mark.parametrize("rank3", [True, False])
def test_onnx_graphs_of_the_wrong_shape_are_clear_errors(capsys, spain_s1, exported, tmp_path, rank3):
    import onnx

    onnx.save(small_graph(exported, rank3), str(tmp_path / "odd.onnx"))
    code, text = run(capsys, "segment", spain_s1, tmp_path / "o.tif", "--model", tmp_path / "odd.onnx")
    assert code == 2 and "Traceback" not in text, text
    assert ("not one (batch" in text) if rank3 else ("not (batch, 2 classes" in text), text
    assert not (tmp_path / "o.tif").exists()


def test_a_full_disk_while_writing_the_quicklook_is_an_error_not_a_traceback(spain_s1, tmp_path, file_size_limit):
    import subprocess
    import sys

    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "floodkd.cli", "segment", str(spain_s1), str(out / "o.tif"),
                           "--method", "otsu", "--quicklook", str(out / "q.png")], capture_output=True, text=True,
                          preexec_fn=file_size_limit(120_000))  # the class raster fits, the PNG does not
    assert proc.returncode == 2 and "quick-look" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not out.exists() or os.listdir(out) == []
