"""Renderers for floodkd outputs, applied on load and saved as .qml sidecars."""
from qgis.core import (QgsColorRampShader, QgsPalettedRasterRenderer, QgsProcessingLayerPostProcessorInterface,
                       QgsRasterLayer, QgsRasterShader, QgsSingleBandPseudoColorRenderer)
from qgis.PyQt.QtGui import QColor

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


def style_layer(layer, kind):
    """Apply the floodkd style of ``kind`` ('classes' or 'probability')."""
    make = class_renderer if kind == "classes" else probability_renderer
    layer.setRenderer(make(layer.dataProvider()))
    layer.triggerRepaint()


def write_style_sidecar(path, kind):
    """Save ``<path minus .tif>.qml`` so QGIS styles the file whenever it is opened."""
    layer = QgsRasterLayer(path, "floodkd", "gdal")
    try:
        if layer.isValid():
            style_layer(layer, kind)
            layer.saveDefaultStyle()
    finally:
        del layer


class StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Post-processor that styles an output layer when QGIS loads it."""

    _alive = []  # QGIS does not own Python post-processors: keep them referenced

    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        StyleOnLoad._alive.append(self)

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API)
        if isinstance(layer, QgsRasterLayer):
            style_layer(layer, self.kind)


def style_when_loaded(context, path, kind, name):
    if context.willLoadLayerOnCompletion(path):
        details = context.layerToLoadOnCompletionDetails(path)
        details.name = name
        details.setPostProcessor(StyleOnLoad(kind))
