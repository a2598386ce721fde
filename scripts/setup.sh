#!/usr/bin/env bash
# Create the virtual environment (default .venv, or $ASL_VENV) and install the project with every extra and its test tools.
# Safe to run again: an existing environment is only brought up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(realpath -m "${ASL_VENV:-.venv}")"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
fi
"$venv/bin/pip" install --quiet -e ".[all,dev]"
echo "environment ready: $venv (activate with: source $venv/bin/activate)"
