"""Products derived from the class raster: polygons, area statistics, quick-looks."""
