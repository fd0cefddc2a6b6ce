"""Execution backend: one job in a separate Python (PyTorch outside the desktop QGIS process)."""
