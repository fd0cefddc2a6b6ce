"""QGIS Processing provider ``floodkd``: thin algorithms over core/ and training/."""
