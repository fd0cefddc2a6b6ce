"""The paper's baseline: one Otsu threshold on the scene's VH histogram (dB)."""
from __future__ import annotations

import numpy as np
from rasterio.windows import Window

from ..bands import S1_BANDS, VH
from ..errors import InputError
from .common import below_threshold_probability
from ..progress import Progress
from ..io.raster_io import read_block


def otsu_threshold(hist: np.ndarray, edges: np.ndarray) -> float:
    """Otsu's threshold of a histogram: maximises the between-class variance."""
    hist = hist.astype(np.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mu0 = np.divide(m0, w0, out=np.zeros_like(m0), where=w0 > 0)
    mu1 = np.divide(m0[-1] - m0, w1, out=np.zeros_like(m0), where=w1 > 0)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(edges[1:][np.argmax(between)])


class OtsuPredictor:
    """The paper's baseline: one Otsu threshold on the scene's VH histogram (dB).

    Needs a first pass over the scene (streamed) to build the histogram. The
    probability is a logistic of the distance below the threshold (1 dB scale),
    so THRESHOLD 0.5 is exactly Otsu's split.
    """

    name = "otsu"
    bands = S1_BANDS

    def __init__(self, bins: int = 600):
        self.edges = np.linspace(VH.low, VH.high, bins + 1, dtype=np.float64)
        self.threshold_db = None

    def prepare(self, source, progress: Progress, strip: int = 1024):
        hist = np.zeros(len(self.edges) - 1, np.int64)
        vh_index = [n for n in source.band_names].index("VH")
        with source.open(decode_threads=0) as ds:  # GDAL decodes each strip's blocks on all CPUs
            for top in range(0, source.height, strip):
                progress.check_cancelled()
                h = min(strip, source.height - top)
                data, valid = read_block(ds, source, Window(0, top, source.width, h))
                vh = np.clip(data[vh_index][valid], VH.low, VH.high)
                hist += np.histogram(vh, bins=self.edges)[0]
                progress.report((top + h) / source.height, "Otsu: VH histogram")
        if hist.sum() == 0:
            raise InputError(f"{source.path} holds no valid VH pixel (all NaN or nodata).")
        self.threshold_db = otsu_threshold(hist, self.edges)
        progress.info(f"Otsu threshold on VH: {self.threshold_db:.2f} dB")

    def predict(self, raw, valid):
        return below_threshold_probability(raw[:, self.bands.index(VH)], self.threshold_db)

    def describe(self):
        return {"method": "otsu", "threshold_db": self.threshold_db}
