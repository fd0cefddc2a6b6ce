#!/usr/bin/env bash
# Redo the README pictures (docs/img/*.png) from real desktop QGIS 3.22 under Xvfb:
# the floodkd:segment dialog, a styled result on the canvas over the input, and the
# Processing Toolbox with the floodkd group. Needs scripts/setup.sh done and the real
# chip ../shared/data/sen1floods11/S1Hand/Spain_7370579_S1Hand.tif.
#
# QGIS starts as a desktop user's would: Debian's Python, no venv (so no PyTorch in the
# GUI process), a fresh profile with floodkd enabled from .qgis/plugins, and only
# onnxruntime added (linked from the venv) for the bundled model.
#   bash scripts/screenshots.sh            # about a minute
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CHIP=${FLOODKD_SCREENSHOT_CHIP:-$ROOT/../shared/data/sen1floods11/S1Hand/Spain_7370579_S1Hand.tif}
[ -f "$CHIP" ] || { echo "screenshots: $CHIP not found (real data beside the repo)" >&2; exit 1; }
[ -x .venv/bin/python ] || { echo "screenshots: run scripts/setup.sh first" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/profile/profiles/default/QGIS" "$WORK/site" docs/img
cat > "$WORK/profile/profiles/default/QGIS/QGIS3.ini" <<INI
[PythonPlugins]
floodkd=true
[qgis]
checkVersion=false
showTips322=false
[UI]
hidebrowser=true
INI
ORT=$(.venv/bin/python -c "import importlib.util as u; print(u.find_spec('onnxruntime').submodule_search_locations[0])")
ln -s "$ORT" "$WORK/site/onnxruntime"
ln -sfn "$ROOT" "$ROOT/.qgis/plugins/floodkd"

PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vx "$ROOT/.venv/bin" | paste -sd:)
export PATH PYTHONPATH="$WORK/site" QGIS_PLUGINPATH="$ROOT/.qgis/plugins" QGIS_CUSTOM_CONFIG_PATH="$WORK/profile"
export GDAL_PAM_ENABLED=NO FLOODKD_SCREENSHOT_CHIP="$CHIP" FLOODKD_SCREENSHOT_OUT="$ROOT/docs/img" \
       FLOODKD_SCREENSHOT_WORK="$WORK" XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/runtime-$(id -u)}"
unset VIRTUAL_ENV QT_QPA_PLATFORM
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
timeout 600 xvfb-run -a -s '-screen 0 1600x1000x24' /usr/bin/qgis --nologo --noversioncheck \
    --code "$ROOT/scripts/screenshots.py" >"$WORK/qgis.log" 2>&1 || true
if [ ! -f "$WORK/done" ]; then
  echo "screenshots: QGIS did not finish; its log:" >&2
  tail -40 "$WORK/qgis.log" >&2
  exit 1
fi
cat "$WORK/done"
