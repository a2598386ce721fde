#!/usr/bin/env bash
# Run the test suite, setting up the environment first if needed. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
venv="$(realpath -m "${ASL_VENV:-.venv}")"
export PATH="$venv/bin:$PATH"   # tests run stage scripts and dvc from this environment
python -m pytest "$@"
