#!/usr/bin/env bash
# Run the test suite, setting up the environment first if needed. Extra arguments go to pytest.
# --quick: the everyday loop, without the slow tests, those on the real data in ../shared and those needing a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=()
if [ "${1:-}" = "--quick" ]; then
    shift
    quick=(-m "not slow and not real_data and not gpu")
fi
scripts/setup.sh
venv="$(realpath -m "${ASL_VENV:-.venv}")"
export PATH="$venv/bin:$PATH"   # tests run stage scripts and dvc from this environment
# What the tests write to the temporary folder (pytest's folders, Ray's sessions, torch.compile's and TensorFlow's
# generated code) goes to one of this run's own, removed however the run ends.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch"
# One pytest worker per core, at most 4 (each may hold torch and TensorFlow); a test file stays on one worker, so its
# module fixtures (the DVC tests' first repro) run once. `-n 0` runs every test in this process.
workers=$(( $(nproc) < 4 ? $(nproc) : 4 ))
python -m pytest -n "$workers" --dist loadfile "${quick[@]}" "$@"
