#!/usr/bin/env bash
# Unattended, idempotent set-up of floodkd on a fresh Debian 12 machine.
#   - Debian packages: QGIS 3.22 LTR, python3-qgis, providers, rasterio, xvfb
#   - .venv from /usr/bin/python3 --system-site-packages with the pinned set
#   - floodkd installed editable into the venv (console script `floodkd`)
#   - .venv/bin/qgis_process: a working wrapper (Debian's passes a flag 3.22 rejects)
#   - .qgis/profile: an isolated QGIS profile with the plugin enabled
# Re-running it when everything is in place takes a few seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
say() { printf '[setup] %s\n' "$*"; }

APT_PKGS=(qgis python3-qgis qgis-providers python3-rasterio python3-venv xvfb xauth)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_PKGS[@]}" >/dev/null
fi

VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
STAMP="$VENV/.floodkd-requirements.sha256"
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  say "installing pinned Python packages (first time: a few minutes, ~6 GB)"
  # (pip's warnings about this machine's absent local find-links folders are filtered out)
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  echo "$want" > "$STAMP"
fi

# qgis_process wrapper: Debian's /usr/bin/qgis_process passes --noversioncheck,
# which 3.22 rejects. This one also puts the venv first and uses our profile.
mkdir -p "$ROOT/.qgis/plugins" "$ROOT/.qgis/profile"
ln -sfn "$ROOT" "$ROOT/.qgis/plugins/floodkd"
cat > "$VENV/bin/qgis_process" <<EOF
#!/usr/bin/env bash
export PATH="$VENV/bin:\$PATH"
export QGIS_PLUGINPATH="$ROOT/.qgis/plugins\${QGIS_PLUGINPATH:+:\$QGIS_PLUGINPATH}"
export QGIS_CUSTOM_CONFIG_PATH="\${QGIS_CUSTOM_CONFIG_PATH:-$ROOT/.qgis/profile}"
export QT_QPA_PLATFORM="\${QT_QPA_PLATFORM:-offscreen}"
# QGIS computes statistics when it opens INPUT; do not cache them as .aux.xml beside
# (possibly read-only or shared) input files.
export GDAL_PAM_ENABLED="\${GDAL_PAM_ENABLED:-NO}"
export XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/tmp/runtime-\$(id -u)}"
mkdir -p "\$XDG_RUNTIME_DIR" && chmod 700 "\$XDG_RUNTIME_DIR"
exec /usr/bin/qgis_process.bin "\$@"
EOF
chmod +x "$VENV/bin/qgis_process"

INI="$ROOT/.qgis/profile/profiles/default/QGIS/QGIS3.ini"
if ! grep -q '^floodkd=true' "$INI" 2>/dev/null; then
  say "enabling the floodkd plugin in the isolated QGIS profile"
  "$VENV/bin/qgis_process" plugins enable floodkd >/dev/null 2>&1 || true
  grep -q '^floodkd=true' "$INI" 2>/dev/null || {
    echo "[setup] could not enable the plugin; run: .venv/bin/qgis_process plugins enable floodkd" >&2
    exit 1
  }
fi
say "ready: .venv/bin/floodkd, .venv/bin/qgis_process (profile .qgis/profile)"
