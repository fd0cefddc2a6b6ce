"""Fixtures for tests that run floodkd's Processing algorithms in real QGIS."""
import pytest


@pytest.fixture(scope="module")
def provider(qgis_app, qgis_processing):
    """The floodkd provider, registered (again) for each module: test_plugin's
    unload removes it from the registry on purpose."""
    from qgis.core import QgsApplication

    from floodkd.processing_provider.provider import FloodKDProvider

    registry = QgsApplication.processingRegistry()
    if registry.providerById("floodkd") is None:
        registry.addProvider(FloodKDProvider())
    return registry.providerById("floodkd")


@pytest.fixture
def loading_context():
    """``make(path, name, output)``: a context that loads ``path`` into the project on completion."""
    from qgis.core import QgsProcessingContext, QgsProject

    def make(path, name, output):
        context = QgsProcessingContext()
        context.setProject(QgsProject.instance())
        context.addLayerToLoadOnCompletion(
            path, QgsProcessingContext.LayerDetails(name, QgsProject.instance(), output))
        return context

    return make
