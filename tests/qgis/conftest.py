"""Fixtures for tests that run floodkd's Processing algorithms in real QGIS."""
import pytest


@pytest.fixture(scope="module")
def provider(qgis_app, qgis_processing):
    """The floodkd provider, registered (again) for each module: test_plugin's
    unload removes it from the registry on purpose."""
    from qgis.core import QgsApplication

    from floodkd.processing_provider.provider import FloodKDProvider

    registry = QgsApplication.processingRegistry()
    added = None
    if registry.providerById("floodkd") is None:
        # Hold the Python object for the module: once it is collected, the registry's
        # provider loses its Python methods (id() '').
        added = FloodKDProvider()
        registry.addProvider(added)
    yield registry.providerById("floodkd")
    if added is not None:  # leave the registry as found (test_plugin registers its own)
        registry.removeProvider(added)


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
