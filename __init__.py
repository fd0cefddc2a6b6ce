"""floodkd: flood mapping from Sentinel-1 SAR by cross-modal distillation.

The repository root is both the QGIS plugin folder and the headless package
``floodkd``. Importing the package does not import QGIS; only ``classFactory``
(called by QGIS) does.
"""

__version__ = "0.2.0"


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """QGIS entry point; ``iface`` is None under qgis_process."""
    from .plugin.floodkd_plugin import FloodKDPlugin

    return FloodKDPlugin(iface)
