"""Fixtures for tests that run floodkd's Processing algorithms in real QGIS, and the real qgis_process."""
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QGIS_PROCESS = os.environ.get("FLOODKD_QGIS_PROCESS", str(REPO / ".venv" / "bin" / "qgis_process"))


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


@pytest.fixture(scope="module")
def qgis_process(tmp_path_factory):
    """``qgis_process(*args, **run_kwargs)``: the real qgis_process binary in a brand-new profile with floodkd
    enabled (``run_kwargs`` go to subprocess.run, e.g. preexec_fn)."""
    if not os.path.exists(QGIS_PROCESS):
        pytest.fail(f"{QGIS_PROCESS} missing: run scripts/setup.sh first")
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(tmp_path_factory.mktemp("profile")))

    def call(*args, **run_kwargs):
        return subprocess.run([QGIS_PROCESS, *args], env=env, capture_output=True, text=True, timeout=300,
                              **run_kwargs)

    enabled = call("plugins", "enable", "floodkd")
    assert enabled.returncode == 0, enabled.stderr
    call.command, call.env = QGIS_PROCESS, env  # for tests that start it themselves (subprocess.Popen)
    return call
