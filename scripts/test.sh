#!/usr/bin/env bash
# Set everything up, then run the gates (ruff, ruff format, mypy, the import-layer
# check, tsc, biome) and every test tier: front-end logic (vitest), then pytest over
# tests/ (unit, widgets, browser in real JupyterLab + Chromium, notebooks).
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
# shellcheck disable=SC1091
. .venv/bin/activate
export TF_CPP_MIN_LOG_LEVEL=3

printf '\n==> Gates: ruff, ruff format, mypy, import layers, tsc, biome\n'
ruff check .
ruff format --check .
mypy
python scripts/check_layers.py
npm --prefix labextension run --silent typecheck
npm --prefix labextension run --silent lint

printf '\n==> Front-end tests (vitest)\n'
npm --prefix labextension test

printf '\n==> Python, widget, browser and notebook tests (pytest)\n'
# pytest exits 5 when it collects no test: set -e turns that into a failure too.
python -m pytest "${@:-tests}"
