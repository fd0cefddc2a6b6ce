"""km2 on rotated geographic grids follow the true cell geometry (issue 16: 25 % low at 30 degrees)."""
import math

import numpy as np
import pytest
from affine import Affine

from floodkd.core.geo.area import EARTH_RADIUS_M
from floodkd.core.segment import SegmentOptions, segment_scene


def rotated_transform(degrees, size=0.0002, origin=(-3.0, 40.0)):
    return Affine.translation(*origin) * Affine.rotation(degrees) * Affine.scale(size, -size)


def polygon_areas_m2(transform, shape, geod):
    """Exact area of every cell from its four corners (geodesic polygon areas)."""
    areas = np.empty(shape)
    for r in range(shape[0]):
        for c in range(shape[1]):
            corners = [transform * (c + dc, r + dr) for dc, dr in ((0, 0), (1, 0), (1, 1), (0, 1))]
            lons, lats = zip(*corners)
            areas[r, c] = abs(geod.polygon_area_perimeter(lons, lats)[0])
    return areas


@pytest.mark.parametrize("degrees", [0.0, 30.0])
def test_raster_km2_match_exact_cell_polygons(tmp_path, make_raster, degrees):
    pyproj = pytest.importorskip("pyproj")
    rng = np.random.default_rng(0)
    vv = rng.normal(-9.0, 1.0, (48, 40))
    vh = vv - 7.0
    vh[:, :12] = -25.0  # water
    transform = rotated_transform(degrees)
    path = make_raster(tmp_path / "rot.tif", np.stack([vv, vh]).astype("float32"), crs="EPSG:4326",
                       transform=transform)
    result = segment_scene(str(path), str(tmp_path / "o.tif"), SegmentOptions(method="threshold"),
                           stats_path=str(tmp_path / "s.json"))
    import rasterio

    with rasterio.open(tmp_path / "o.tif") as ds:
        classes = ds.read(1)
    sphere = polygon_areas_m2(transform, classes.shape, pyproj.Geod(a=EARTH_RADIUS_M, b=EARTH_RADIUS_M)) / 1e6
    wgs84 = polygon_areas_m2(transform, classes.shape, pyproj.Geod(ellps="WGS84")) / 1e6
    water = classes == 1
    assert water.sum() > 300
    assert math.isclose(result.valid_km2, sphere.sum(), rel_tol=1e-5)
    assert math.isclose(result.water_km2, sphere[water].sum(), rel_tol=1e-5)
    assert math.isclose(result.stats.flooded_km2, sphere[water].sum(), rel_tol=1e-5)
    assert math.isclose(result.valid_km2, wgs84.sum(), rel_tol=5e-3)  # the mean sphere vs the ellipsoid
