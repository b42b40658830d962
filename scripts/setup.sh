#!/usr/bin/env bash
# Set up a development environment from the project's own files; safe to re-run.
#   .venv/           Python environment with the package installed editable (+ test extras)
#   labextension/    npm dependencies; `npm run build` runs inside `pip install -e`
#   /usr/bin/chromium  only with --browser (Debian package, for tests/browser)
# Needs: python3 (3.10+), node + npm, and apt-get (root or sudo) for --browser.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "usage: scripts/setup.sh [--browser]" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }

if [[ ! -x .venv/bin/python ]]; then
  step "Creating .venv"
  "${PYTHON:-python3}" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1

step "Installing front-end dependencies (npm ci)"
npm --prefix labextension ci --no-audit --no-fund --loglevel=error

step "Installing transfer-widgets and its test tools (builds the front end)"
pip install --quiet -e ".[test]"
jupyter labextension develop --overwrite . >/dev/null
jupyter labextension list 2>&1 | grep -q "transfer-widgets.*enabled.*OK" \
  || { echo "transfer-widgets labextension is not enabled:"; jupyter labextension list; exit 1; }

if ((want_browser)) && ! command -v chromium >/dev/null; then
  step "Installing Chromium for the browser tests (apt)"
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium >/dev/null
fi
step "Set up done"
