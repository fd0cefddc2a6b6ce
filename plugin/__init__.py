"""QGIS GUI part of floodkd: actions and dialogs; no numeric work here."""
