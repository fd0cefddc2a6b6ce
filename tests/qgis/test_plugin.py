"""The plugin loads with and without a GUI and unloads cleanly."""
import pytest

pytest.importorskip("qgis.core")
from qgis.core import QgsApplication  # noqa: E402


def test_headless_load_registers_provider(qgis_app):
    import floodkd

    plugin = floodkd.classFactory(None)  # what qgis_process does
    plugin.initProcessing()
    try:
        assert QgsApplication.processingRegistry().providerById("floodkd") is not None
        plugin.initGui()  # no iface: must not fail
        assert plugin.actions == []
    finally:
        plugin.unload()
    assert QgsApplication.processingRegistry().providerById("floodkd") is None


def test_gui_load_adds_action_and_unloads(qgis_app, qgis_iface):
    import floodkd

    plugin = floodkd.classFactory(qgis_iface)
    plugin.initGui()
    try:
        names = [a.objectName() for a in plugin.actions]
        assert names[0] == "floodkdSegment" and "floodkdDistillStudent" in names
        assert not plugin.actions[0].icon().isNull()
        registry = QgsApplication.processingRegistry()
        assert registry.providerById("floodkd") is not None
        from floodkd.plugin.floodkd_plugin import ACTIONS

        for _, _, algorithm in ACTIONS:  # every menu entry opens an algorithm that exists
            assert registry.algorithmById(algorithm) is not None, algorithm
    finally:
        plugin.unload()
    assert plugin.actions == [] and plugin.provider is None
    assert QgsApplication.processingRegistry().providerById("floodkd") is None


def test_metadata_declares_processing_provider():
    from pathlib import Path
    import configparser

    meta = configparser.ConfigParser()
    meta.read(Path(__file__).resolve().parents[2] / "metadata.txt")
    general = meta["general"]
    assert general["hasProcessingProvider"] == "yes"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["name"] == "floodkd"
