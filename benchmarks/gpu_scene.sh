#!/usr/bin/env bash
# One Sentinel-1 GRD-size scene on one GPU, end to end, with stage times (issue 14's goal: <= 10 s).
#
#   bash benchmarks/gpu_scene.sh [FOLDER]      (default FOLDER: /tmp/floodkd-gpu-scene)
#
# Builds a 20480 x 20480 px float32 VV/VH dB GeoTIFF (419 Mpx, tiled 512, DEFLATE; mosaicked from the
# real Sen1Floods11 chips in ../shared/data) unless FOLDER already holds it, then runs back to back
# (benchmarks/engine_vs_disk.py): the plain rasterio read-and-write loop, --method threshold, the bundled
# .pt alone on the GPU, and `floodkd segment --device cuda` with the bundled .pt, printing wall and CPU
# seconds, peak resident memory and the engine's per-stage seconds (FLOODKD_STAGE_TIMES); then the same
# segment run with --tile 1024 --batch-size 16.
#
# Needs torch with CUDA and rasterio's wheels, and NOT GDAL's Python bindings: every Python started here
# finds an `osgeo` that refuses to import, so the run fails if anything on this path still needs osgeo.
# PYTHON (default .venv/bin/python) picks the interpreter. Not run yet: no GPU was lent to the session that
# wrote it (docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
FOLDER=$(mkdir -p "${1:-/tmp/floodkd-gpu-scene}" && cd "${1:-/tmp/floodkd-gpu-scene}" && pwd)
SIDE=20480
mkdir -p "$FOLDER/no_osgeo/osgeo"
cat > "$FOLDER/no_osgeo/osgeo/__init__.py" <<'EOF'
raise ImportError("GDAL's Python bindings are hidden by benchmarks/gpu_scene.sh: this path must run on rasterio alone")
EOF
export PYTHONPATH="$FOLDER/no_osgeo${PYTHONPATH:+:$PYTHONPATH}"

"$PYTHON" - <<'EOF'
import importlib.util, sys
import torch, rasterio
try:
    import osgeo  # noqa: F401
    sys.exit("osgeo is importable: the check would prove nothing")
except ImportError:
    pass
if not torch.cuda.is_available():
    sys.exit(f"torch {torch.__version__} sees no CUDA GPU")
print(f"GPU {torch.cuda.get_device_name(0)}, torch {torch.__version__}, rasterio {rasterio.__version__} "
      f"(GDAL {rasterio.__gdal_version__}), onnxruntime {'yes' if importlib.util.find_spec('onnxruntime') else 'no'}")
EOF
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

SCENE="$FOLDER/scene_$SIDE.tif"
if [ ! -f "$SCENE" ]; then
  start=$(date +%s)
  "$PYTHON" -c "import sys; sys.path.insert(0, 'benchmarks'); from pathlib import Path; \
from segment_benchmark import build_scene; build_scene(Path('$SCENE'), $SIDE)"
  echo "built $SCENE in $(( $(date +%s) - start )) s"
fi

"$PYTHON" benchmarks/engine_vs_disk.py --scene "$SCENE" --device cuda --repeat 1 --stage-times --keep "$FOLDER"

echo "--- the model again with --tile 1024 --batch-size 16"
"$PYTHON" benchmarks/engine_vs_disk.py --scene "$SCENE" --device cuda --repeat 1 --stage-times --keep "$FOLDER" \
  --skip loop threshold network "--segment-args=--tile 1024 --batch-size 16"
