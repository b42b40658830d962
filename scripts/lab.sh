#!/usr/bin/env bash
# Set everything up, then open JupyterLab on the quickstart notebook.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export TF_CPP_MIN_LOG_LEVEL=3
browser_flag=()
[[ "${CI:-}" == "true" ]] && browser_flag=(--no-browser)
exec jupyter lab "${browser_flag[@]}" notebooks/quickstart.ipynb "$@"
