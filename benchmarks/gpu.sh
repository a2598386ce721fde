#!/usr/bin/env bash
# The GPU figures in one run, for a lent GPU machine (its python3 holds torch; dvc and dvclive are not needed):
# the determinism tests on CUDA (`pytest -m gpu`), then benchmarks/scale.py training the default model on the GPU
# as params.yaml sets it and in the variants below (batch size, bf16, torch.compile, loader workers).
# Usage: OUT=DIR ASL_COMMIT=<commit> bash benchmarks/gpu.sh [sequences-per-sign (76)] [device (cuda)]
# Writes DIR/gpu-tests.log, DIR/scale-gpu.log and DIR/scale-gpu.json (the record for docs/results).
set -uo pipefail
out=${OUT:-/tmp/asl-gpu}
python=${PYTHON:-python3}
device=${2:-cuda}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null
"$python" -c "import torch, numpy, pandas, pyarrow; print('torch', torch.__version__, 'numpy', numpy.__version__,
'pandas', pandas.__version__, 'pyarrow', pyarrow.__version__, 'cuda', torch.cuda.is_available())"
timeout 100 "$python" -m pytest -q -p no:cacheprovider -m gpu -rs tests/training/test_determinism.py 2>&1 \
    | tail -n 15 | tee "$out/gpu-tests.log"
fast="train.deterministic=false,train.batch_size=256"
timeout 360 "$python" benchmarks/scale.py --sequences-per-sign "${1:-76}" --workers "$(nproc)" --device "$device" \
    --no-fast-dev-run --repeats 3 --max-train-sequences 8192 \
    --variant "b256:$fast" \
    --variant "b256_bf16:$fast,train.precision=bf16" \
    --variant "b256_bf16_workers4:$fast,train.precision=bf16,train.num_workers=4" \
    --variant "b256_bf16_compile:$fast,train.precision=bf16,train.compile=true" \
    --variant "b1024_bf16_compile:$fast,train.precision=bf16,train.compile=true,train.batch_size=1024" \
    --json "$out/scale-gpu.json" 2>&1 | grep -v "^epoch " | tee "$out/scale-gpu.log"
