"""The engine gives bit-for-bit the same map whatever the batching and I/O chunking.

What can be identical and what cannot, with a CNN:

* Batch size, strip read chunking (``chunk_width``) and COG vs plain GeoTIFF
  never change which pixels a tile holds nor which tiles are blended in which
  order, so the class map is identical bit for bit (asserted below). Batch
  size could in principle change float rounding inside a convolution library
  (another algorithm for another N); on this CPU build it does not, and the
  test would say so if it did.
* Tile size and overlap change what the network sees around a pixel (its
  receptive field is cut at tile borders and zero-padded) and the blend
  weights, so a CNN's probabilities change a little near tile borders:
  only methods that are per-pixel, like Otsu, are identical across tilings.
"""
import numpy as np
import pytest
import rasterio

from floodkd.core.segment import SegmentOptions, segment_scene


def read(path):
    with rasterio.open(path) as ds:
        return ds.read(1)


def run(src, out, **options):
    prob = str(out) + ".prob.tif"
    segment_scene(str(src), str(out), SegmentOptions(device="cpu", **options), prob)
    return read(out), read(prob)


def test_model_batch_size_and_read_chunks_do_not_change_a_bit(spain_s1, tiny_s1_checkpoint, tmp_path):
    tiling = dict(model=str(tiny_s1_checkpoint), tile=128, overlap=32)
    c1, p1 = run(spain_s1, tmp_path / "b1.tif", batch_size=1, **tiling)
    c8, p8 = run(spain_s1, tmp_path / "b8.tif", batch_size=8, chunk_width=100, **tiling)
    np.testing.assert_array_equal(c1, c8)
    np.testing.assert_array_equal(p1, p8)
    assert 0 < (c1 == 1).sum() < (c1 != 255).sum()  # a real map, not a constant


def test_otsu_identical_for_any_tiling_and_chunking(india_s1, tmp_path):
    whole, _ = run(india_s1, tmp_path / "one.tif", method="otsu", tile=512, overlap=0)
    tiled, _ = run(india_s1, tmp_path / "many.tif", method="otsu", tile=80, overlap=17, batch_size=5,
                   chunk_width=90)
    np.testing.assert_array_equal(whole, tiled)


def test_cog_output_is_the_same_map_with_overviews(make_raster, tmp_path):
    rng = np.random.default_rng(2)
    data = rng.normal(-14, 4, (2, 1100, 1300)).astype(np.float32)
    data[:, :50] = np.nan
    scene = make_raster(tmp_path / "scene.tif", data)
    plain, prob = run(scene, tmp_path / "plain.tif", method="otsu")
    cog, cog_prob = run(scene, tmp_path / "cog.tif", method="otsu", cog=True)
    np.testing.assert_array_equal(plain, cog)
    np.testing.assert_array_equal(prob, cog_prob)
    with rasterio.open(tmp_path / "cog.tif") as ds, rasterio.open(scene) as src:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.overviews(1) == [2, 4] and ds.block_shapes[0] == (512, 512)
        assert (ds.crs, ds.transform, ds.nodata) == (src.crs, src.transform, 255)
        assert ds.colormap(1)[1][:3] == (31, 120, 220) and ds.tags()["FLOODKD_METHOD"] == "otsu"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cog.tif", "cog.tif.prob.tif", "plain.tif", "plain.tif.prob.tif", "scene.tif"]


@pytest.mark.parametrize("batch_size", [1, 3])
def test_every_valid_pixel_predicted_once_with_skipped_nodata_tiles(make_raster, tmp_path, batch_size):
    rng = np.random.default_rng(1)
    data = rng.normal(-15, 3, (2, 150, 300)).astype(np.float32)
    data[:, :, :140] = np.nan  # whole tiles of nodata on the left are skipped
    data[:, 70:75, 200:] = np.nan
    path = make_raster(tmp_path / "holes.tif", data)
    classes, prob = run(path, tmp_path / "o.tif", method="otsu", tile=64, overlap=16,
                        batch_size=batch_size, chunk_width=64)
    np.testing.assert_array_equal(classes == 255, np.isnan(data[0]))
    assert (prob[classes != 255] >= 0).all()


def test_blending_on_the_network_device_gives_the_same_bits(spain_s1, tiny_s1_checkpoint, tmp_path, monkeypatch):
    """On CUDA the engine blends on the GPU (core/blending.TorchBlend); run here with torch on the CPU,
    it gives the NumpyBlend map and probabilities bit for bit."""
    import floodkd.core.strip_engine as engine
    from floodkd.core.blending import TorchBlend

    tiling = dict(model=str(tiny_s1_checkpoint), tile=160, overlap=48, batch_size=3)
    numpy_classes, numpy_prob = run(spain_s1, tmp_path / "numpy.tif", **tiling)
    used = []

    def torch_blend(predictor, tile_h, width, weights):
        used.append(predictor)
        return TorchBlend(predictor, tile_h, width, weights, "cpu")

    monkeypatch.setattr(engine, "make_blend", torch_blend)
    torch_classes, torch_prob = run(spain_s1, tmp_path / "torch.tif", **tiling)
    assert used and type(used[0]).__name__ == "TorchPredictor"
    np.testing.assert_array_equal(torch_classes, numpy_classes)
    np.testing.assert_array_equal(torch_prob.view(np.uint32), numpy_prob.view(np.uint32))
    assert 0 < (numpy_classes == 1).sum() < (numpy_classes != 255).sum()
