#!/usr/bin/env bash
# The whole test suite: real QGIS 3.22, real qgis_process, real data from ../shared/data.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen PATH="$ROOT/.venv/bin:$PATH"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
