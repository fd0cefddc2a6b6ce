#!/usr/bin/env bash
# The main job: segment a real Sentinel-1 chip through `qgis_process run floodkd:segment`
# with the bundled default model, then write a PNG quick-look. Needs scripts/setup.sh first.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INPUT=${1:-$ROOT/../shared/data/sen1floods11/S1Hand/Spain_7370579_S1Hand.tif}
OUT_DIR=${OUT_DIR:-$ROOT/out}
name=$(basename "${INPUT%.*}")
mkdir -p "$OUT_DIR"
"$ROOT/.venv/bin/qgis_process" run floodkd:segment -- \
  INPUT="$INPUT" OUTPUT="$OUT_DIR/${name}_water.tif" OUTPUT_PROBABILITY="$OUT_DIR/${name}_water_probability.tif"
"$ROOT/.venv/bin/floodkd" quicklook "$INPUT" "$OUT_DIR/${name}_water.tif" "$OUT_DIR/${name}_water.png"
echo "flood raster:  $OUT_DIR/${name}_water.tif (0 dry, 1 water, 255 nodata; style: ${name}_water.qml)"
echo "probability:   $OUT_DIR/${name}_water_probability.tif"
echo "quick-look:    $OUT_DIR/${name}_water.png"
