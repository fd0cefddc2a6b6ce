"""Raster reading and writing, destinations, locks, run files and all-or-none publishing."""
