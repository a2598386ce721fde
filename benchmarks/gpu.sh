#!/usr/bin/env bash
# The GPU figures in one run, for a lent GPU machine (its python3 holds torch; dvc and dvclive are not needed):
# `tests`: the determinism and compiled-augmentation tests on CUDA (`pytest -m gpu`); `scale`: benchmarks/scale.py
# training the default model on the GPU in the variants below (the store on the device with batch 1024, with 4096,
# and with no augmentation method: the augmenter's fixed work alone; all bf16, compiled (the model and the
# augmentation), in length buckets); `all`: both. Each part is cut off by `timeout` (160 s, 330 s): a device call
# needs a limit above their sum.
# (The recorded runs, docs/results/scale-gpu*.json, name the commit whose variants they ran.)
# Usage: OUT=DIR ASL_COMMIT=<commit> bash benchmarks/gpu.sh [all|tests|scale] [sequences-per-sign (76)]
# Writes DIR/gpu-tests.log, DIR/scale-gpu.log and DIR/scale-gpu.json (the record for docs/results).
set -uo pipefail
out=${OUT:-/tmp/asl-gpu}
python=${PYTHON:-python3}
what=${1:-all}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null
"$python" -c "import torch, numpy, pandas, pyarrow; print('torch', torch.__version__, 'numpy', numpy.__version__,
'pandas', pandas.__version__, 'pyarrow', pyarrow.__version__, 'cuda', torch.cuda.is_available())"
if [[ $what == all || $what == tests ]]; then
    timeout 160 "$python" -m pytest -q -p no:cacheprovider -m gpu -rs tests/training/test_determinism.py \
        tests/data/test_augment.py 2>&1 \
        | tail -n 15 | tee "$out/gpu-tests.log"
fi
if [[ $what == all || $what == scale ]]; then
    fast="train.deterministic=false,train.bucket_by_length=true"
    device="$fast,train.precision=bf16,train.compile=true,train.store_on_device=true"
    timeout 330 "$python" benchmarks/scale.py --sequences-per-sign "${2:-76}" --workers "$(nproc)" --device cuda \
        --no-fast-dev-run --repeats 3 --no-train-params \
        --variant "b1024_bf16_compile_on_device:$device,train.batch_size=1024" \
        --variant "b4096_bf16_compile_on_device:$device,train.batch_size=4096" \
        --variant "b1024_bf16_compile_on_device_no_methods:$device,train.batch_size=1024,augment.methods=[]" \
        --json "$out/scale-gpu.json" 2>&1 | grep -v "^epoch " | tee "$out/scale-gpu.log"
fi
