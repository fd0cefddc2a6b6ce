"""Shared test fixtures: paths to the real data in ../shared/data and tiny models."""
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QGIS computes histograms when it opens a layer and GDAL would save them as
# .aux.xml beside the input; never write into ../shared/data.
os.environ["GDAL_PAM_ENABLED"] = "NO"

REPO = Path(__file__).resolve().parents[1]
DATA = (REPO / ".." / "shared" / "data").resolve()
S1HAND = DATA / "sen1floods11" / "S1Hand"
LABELHAND = DATA / "sen1floods11" / "LabelHand"


def shared_file(*parts) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} (expected ../shared/data beside the repo)")
    return path


@pytest.fixture(scope="session")
def shared():
    """``shared("etci2021")``: a path under ../shared/data, or skip (tests cannot import conftest)."""
    return shared_file


@pytest.fixture
def spain_s1():
    return shared_file("sen1floods11", "S1Hand", "Spain_7370579_S1Hand.tif")


@pytest.fixture
def india_s1():
    return shared_file("sen1floods11", "S1Hand", "India_900498_S1Hand.tif")


@pytest.fixture(scope="session")
def tiny_s1_checkpoint(tmp_path_factory):
    """A randomly initialised, tiny S1 (VV, VH) U-Net checkpoint (not a trained model)."""
    import torch

    from floodkd.core.bands import S1_BANDS
    from floodkd.core.models.checkpoint import make_checkpoint, save_checkpoint
    from floodkd.core.models.architectures import build_model

    torch.manual_seed(0)
    kwargs = {"encoder_depth": 3, "decoder_channels": (32, 16, 8)}
    model = build_model("unet", "resnet18", 2, 2, **kwargs)
    with torch.no_grad():  # make the output depend clearly on VH so the model is not constant
        model.segmentation_head[0].bias.copy_(torch.tensor([0.0, 0.0]))
    path = tmp_path_factory.mktemp("ckpt") / "tiny_s1.pt"
    save_checkpoint(make_checkpoint(model, "unet", "resnet18", S1_BANDS, kwargs, role="test-random"), str(path))
    return path


def write_raster(path, data, nodata=None, crs="EPSG:32630", transform=None, descriptions=None):
    """Write a (bands, H, W) array as a GeoTIFF for bad-input and grid tests."""
    import rasterio
    from rasterio.transform import from_origin

    data = np.asarray(data)
    transform = transform or from_origin(500000, 4200000, 10, 10)
    profile = dict(driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                   dtype=data.dtype.name, crs=crs, transform=transform, nodata=nodata)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
        for i, d in enumerate(descriptions or [], start=1):
            ds.set_band_description(i, d)
    return path


@pytest.fixture
def make_raster():
    """The write_raster helper, as a fixture (tests cannot import conftest)."""
    return write_raster


@pytest.fixture(scope="session", autouse=True)
def shared_data_stays_untouched():
    """Fail the run if anything (QGIS statistics, a test) wrote into ../shared/data."""
    def listing():
        return {p for p in DATA.rglob("*")} if DATA.exists() else set()

    before = listing()
    yield
    added = sorted(str(p) for p in listing() - before)
    assert not added, f"tests wrote into the shared data: {added[:5]}"


@pytest.fixture
def scene_copy(spain_s1, tmp_path):
    """A copy of a real chip in tmp_path: an input that a wrong run could overwrite."""
    copy = tmp_path / "scene.tif"
    copy.write_bytes(spain_s1.read_bytes())
    return copy


@pytest.fixture
def file_contents():
    """``file_contents(folder)``: {name: bytes} of every file in it, hidden ones included."""
    return lambda folder: {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


@pytest.fixture
def file_size_limit():
    """``file_size_limit(n)``: a subprocess preexec_fn after which writes beyond n bytes fail (EFBIG), like a
    full disk."""
    import resource
    import signal

    def make(limit_bytes):
        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
        return limit
    return make


@pytest.fixture(scope="session")
def exported_onnx(tiny_s1_checkpoint, tmp_path_factory):
    """The tiny checkpoint exported once with ``floodkd export-onnx``; tests alter copies elsewhere."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from floodkd.cli.main import main

    path = tmp_path_factory.mktemp("onnx") / "m.onnx"
    assert main(["export-onnx", str(tiny_s1_checkpoint), str(path)]) == 0
    return path


@pytest.fixture
def writable_sen1floods11(shared, tmp_path):
    """A writable copy of the Sen1Floods11 hand-labelled chips (S1, labels, splits), as a user's own data."""
    import shutil

    root = tmp_path / "s1f11"
    src = shared("sen1floods11")
    for sub in ("S1Hand", "LabelHand", "splits"):
        shutil.copytree(src / sub, root / sub)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root
