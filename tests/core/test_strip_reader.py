"""Strips cut from block-aligned bands equal the strip windows read one by one; the block sample."""
import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from floodkd.core.io.block_sample import sample_windows
from floodkd.core.io.raster_io import decimated_values, inspect_sar, read_block
from floodkd.core.io.strip_reader import band_rows, read_strips, strip_tile_batches
from floodkd.core.predict.tiling import tile_starts


def scene(path, layout, height=700, width=530, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.normal(-14, 5, (2, height, width)).astype(np.float32)
    data[:, 100:140, 30:300] = np.nan
    data[1, 400:410] = np.inf
    data[:, 600:, :200] = 0.0  # GRD fill
    profile = dict(driver="GTiff", width=width, height=height, count=2, dtype="float32", crs="EPSG:32630",
                   transform=rasterio.transform.from_origin(500000, 4200000, 10, 10), compress="deflate", **layout)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
    return path


LAYOUTS = {"tiled 128": dict(tiled=True, blockxsize=128, blockysize=128),
           "strips of 3 rows": dict(blockysize=3),
           "one strip": dict(blockysize=700)}


@pytest.mark.parametrize("threads,units", [(1, "db"), (3, "db"), (3, "linear")])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("tile,overlap,chunk", [(256, 64, 0), (100, 37, 150), (700, 0, 0)])
def test_strips_equal_their_windows_read_alone(tmp_path, layout, tile, overlap, chunk, threads, units):
    path = scene(tmp_path / "s.tif", LAYOUTS[layout])
    source = inspect_sar(str(path))
    source.units = units  # linear: log10 of the positive values, the negative ones invalid
    source.row_off, source.col_off, source.height, source.width = 45, 17, 610, 480  # a crop, off the blocks
    tops = tile_starts(source.height, tile, overlap)
    th = min(tile, source.height)
    with rasterio.open(path) as ds:
        strips = list(read_strips(ds, source, tops, th, chunk, threads))
        assert [s[0] for s in strips] == tops
        for top, data, valid in strips:
            expected, expected_valid = read_block(ds, source, Window(0, top, source.width, th))
            np.testing.assert_array_equal(data, expected)
            np.testing.assert_array_equal(valid, expected_valid)
    valid_share = np.mean([s[2].mean() for s in strips])
    assert 0 < valid_share < 1  # nodata and valid both present


def test_band_rows_read_whole_blocks():
    assert band_rows(512) == 512 and band_rows(256) == 256
    assert band_rows(3) == 258 and band_rows(1) == 256  # striped files: whole strips, about 256 rows
    assert band_rows(5000) == 256  # a block taller than a band: GDAL's cache keeps it between reads


def test_tile_batches_skip_nodata_tiles_and_keep_the_batch_size():
    data = np.arange(2 * 4 * 20, dtype=np.float32).reshape(2, 4, 20)
    valid = np.ones((4, 20), bool)
    valid[:, 4:12] = False  # the tiles at 4 and 8 are all nodata
    batches = list(strip_tile_batches(data, valid, [0, 4, 8, 12, 16], 4, 2))
    assert [b[0] for b in batches] == [[0, 12], [16]]
    np.testing.assert_array_equal(batches[0][1][1], data[:, :, 12:16])
    assert batches[0][1].shape == (2, 2, 4, 4) and batches[0][2].shape == (2, 4, 4)


def test_block_sample_spreads_whole_blocks_over_a_large_scene(tmp_path, monkeypatch):
    import floodkd.core.io.block_sample as block_sample

    path = scene(tmp_path / "big.tif", dict(tiled=True, blockxsize=16, blockysize=16), 1600, 1600)
    source = inspect_sar(str(path))
    windows = sample_windows(source, 16, 16, pixels=64 * 256)
    assert len(windows) == 64 and {(w.width, w.height) for w in windows} == {(16, 16)}
    rows = sorted({w.row_off for w in windows})
    assert len(rows) == 8 and rows[0] < 200 and rows[-1] > 1400  # spread over the whole height
    assert sample_windows(source, 16, 16, pixels=1600 * 1600 // 2) is None  # no saving: read it all
    monkeypatch.setattr(block_sample, "SAMPLE_PIXELS", 64 * 256)  # as 4 Mpx of a scene 156x larger
    data, valid = decimated_values(source, in_db=False)
    assert data.shape == (2, 1, 64 * 256)
    monkeypatch.setattr(block_sample, "MAX_VALUES", 64 * 256 // 3)
    assert decimated_values(source, in_db=False)[0].shape == (2, 1, -(-64 * 256 // 4))  # every 4th value
    full = rasterio.open(path).read()
    assert abs(float(np.median(data[0][valid])) - float(np.nanmedian(full[0][np.isfinite(full).all(0)]))) < 0.2


def test_small_or_mostly_empty_scene_keeps_the_decimated_read(tmp_path, monkeypatch):
    import floodkd.core.io.block_sample as block_sample

    path = scene(tmp_path / "small.tif", LAYOUTS["tiled 128"])
    data, valid = decimated_values(inspect_sar(str(path)), in_db=False)
    assert data.shape == (2, 700, 530) and valid.sum() < valid.size
    monkeypatch.setattr(block_sample, "SAMPLE_PIXELS", 4 * 256)
    empty = np.full((2, 1600, 1600), np.nan, np.float32)
    empty[:, :40, :40] = -12.0  # valid only in a corner no sampled block reaches
    path = tmp_path / "corner.tif"
    with rasterio.open(path, "w", driver="GTiff", width=1600, height=1600, count=2, dtype="float32",
                       tiled=True, blockxsize=16, blockysize=16) as ds:
        ds.write(empty)
    data, valid = decimated_values(inspect_sar(str(path)), in_db=False)
    assert data.shape == (2, 800, 800) and valid.sum() == 400  # every 2nd pixel of the corner
