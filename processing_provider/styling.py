"""Renderers for floodkd outputs, applied on load and saved as .qml sidecars."""
from qgis.core import (QgsCategorizedSymbolRenderer, QgsColorRampShader, QgsFillSymbol, QgsPalettedRasterRenderer,
                       QgsProcessingLayerPostProcessorInterface, QgsRasterLayer, QgsRasterShader,
                       QgsRendererCategory, QgsSingleBandPseudoColorRenderer, QgsVectorLayer)
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtXml import QDomDocument

CLASS_STYLE = [  # value, RGBA, legend label
    (0, (230, 230, 230, 0), "dry"),
    (1, (31, 120, 220, 255), "flood water"),
    (2, (8, 48, 107, 255), "permanent water"),
]


def class_renderer(provider):
    classes = [QgsPalettedRasterRenderer.Class(v, QColor(*rgba), label) for v, rgba, label in CLASS_STYLE]
    return QgsPalettedRasterRenderer(provider, 1, classes)


def probability_renderer(provider):
    ramp = QgsColorRampShader(0.0, 1.0)
    ramp.setColorRampType(QgsColorRampShader.Interpolated)
    ramp.setColorRampItemList([
        QgsColorRampShader.ColorRampItem(0.0, QColor(255, 255, 255, 0), "0 (dry)"),
        QgsColorRampShader.ColorRampItem(0.5, QColor(158, 202, 225, 255), "0.5"),
        QgsColorRampShader.ColorRampItem(1.0, QColor(8, 48, 107, 255), "1 (water)"),
    ])
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    renderer = QgsSingleBandPseudoColorRenderer(provider, 1, shader)
    renderer.setClassificationMin(0.0)
    renderer.setClassificationMax(1.0)
    return renderer


POLYGON_STYLE = [  # class, fill RGBA, outline RGB, legend label
    (1, (31, 120, 220, 150), (8, 48, 107), "flood water"),
    (2, (8, 48, 107, 200), (3, 20, 50), "permanent water"),
]


def polygon_renderer():
    """Blue fill with a darker outline, by the ``class`` field (1 flood, 2 permanent water)."""
    categories = []
    for value, fill, line, label in POLYGON_STYLE:
        symbol = QgsFillSymbol.createSimple({"color": ",".join(map(str, fill)), "outline_color": ",".join(map(str, line)),
                                             "outline_width": "0.3", "outline_style": "solid"})
        categories.append(QgsRendererCategory(value, symbol, label))
    return QgsCategorizedSymbolRenderer("class", categories)


def style_layer(layer, kind):
    """Apply the floodkd style of ``kind`` ('classes', 'probability' or 'polygons')."""
    if kind == "polygons":
        layer.setRenderer(polygon_renderer())
    else:
        make = class_renderer if kind == "classes" else probability_renderer
        layer.setRenderer(make(layer.dataProvider()))
    layer.triggerRepaint()


def write_polygon_style(path, layer_name="flood_water"):
    """Store the polygon style in the GeoPackage as its default (QGIS applies it on every load)."""
    uri = path if "|layername=" in path else f"{path}|layername={layer_name}"
    layer = QgsVectorLayer(uri, "floodkd", "ogr")
    try:
        if layer.isValid():
            style_layer(layer, "polygons")
            layer.saveStyleToDatabase("floodkd", "floodkd flood polygons", True, "")
    finally:
        del layer


def raster_style_qml(path, kind):
    """QML text of the floodkd style of ``kind`` for the raster at ``path`` (None if QGIS cannot open it)."""
    layer = QgsRasterLayer(path, "floodkd", "gdal")
    try:
        if not layer.isValid():
            return None
        style_layer(layer, kind)
        doc = QDomDocument("qgis")
        error = layer.exportNamedStyle(doc)
        if error:
            raise OSError(f"cannot write the QGIS style of {path}: {error}")
        return doc.toString()
    finally:
        del layer


def raster_style_texts(kinds=("classes", "probability")):
    """``{kind: QML}`` of the raster styles, made from a 1-pixel template in a private temporary folder
    (the styles do not depend on the data), for runs that publish elsewhere (the worker)."""
    import shutil
    import tempfile

    import numpy as np
    import rasterio

    folder = tempfile.mkdtemp(prefix="floodkd-style-")
    try:
        texts = {}
        for kind in kinds:
            path = f"{folder}/{kind}.tif"
            dtype = "uint8" if kind == "classes" else "float32"
            with rasterio.open(path, "w", driver="GTiff", width=1, height=1, count=1, dtype=dtype) as ds:
                ds.write(np.zeros((1, 1, 1), dtype))
            texts[kind] = raster_style_qml(path, kind)
        return texts
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def style_staged(kind, path):
    """core.publish's style hook: called on each staged product before the run publishes them.

    Rasters get QML text (published as the ``.qml`` sidecar QGIS reads whenever
    the file is opened); the polygon style is stored in the GeoPackage itself.
    """
    if kind == "polygons":
        write_polygon_style(path)
        return None
    return raster_style_qml(path, kind)


class StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Post-processor that styles an output layer when QGIS loads it."""

    _alive = []  # QGIS does not own Python post-processors: keep them referenced

    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        StyleOnLoad._alive.append(self)

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API)
        if isinstance(layer, (QgsRasterLayer, QgsVectorLayer)):
            style_layer(layer, self.kind)


def style_when_loaded(context, path, kind, name):
    if context.willLoadLayerOnCompletion(path):
        details = context.layerToLoadOnCompletionDetails(path)
        details.name = name
        details.setPostProcessor(StyleOnLoad(kind))
