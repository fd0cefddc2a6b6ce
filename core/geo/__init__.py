"""Geometry of the scene: extents, cell areas, context layers (permanent water, slope)."""
