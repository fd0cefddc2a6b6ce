"""The uint8 class codes of every floodkd class raster (public: never renumber)."""

DRY, FLOOD, PERMANENT, NODATA = 0, 1, 2, 255
CLASS_NAMES = {DRY: "dry", FLOOD: "flood water", PERMANENT: "permanent water", NODATA: "nodata"}
WATER_CLASSES = (FLOOD, PERMANENT)
