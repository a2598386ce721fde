#!/usr/bin/env bash
# Quick start: set up the environment, then run the whole pipeline (`dvc repro`) on the built-in sample.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
venv="$(realpath -m "${ASL_VENV:-.venv}")"
export PATH="$venv/bin:$PATH"   # the stages run `python` from this environment
dvc repro "$@"
