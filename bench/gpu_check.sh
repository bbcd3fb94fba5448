#!/usr/bin/env bash
# The device check of the GPU path, in one run sized for < 8 minutes on one GPU:
#   1. the gpu-marked tests (pytest -m gpu)                          <= 240 s
#   2. host reads per compiled step, Dropout replay, jit on/off,
#      exact resume (bench/gpu_steady_state.py)                      <=  60 s
#   3. NCCL with 2 processes (only with 2 GPUs; else it says so)     <= 120 s
#   4. bench/run.py all --device gpu against PyTorch CUDA            <= 180 s (short runs)
# Usage, from anywhere:  bash bench/gpu_check.sh [LOG]   (default LOG: bench/gpu_check.log)
# Env: PYTHON (default python), STEPS / WARMUP for step 4 (default 10 / 3).
# Exit status: 0 when every step passed, 1 otherwise, 2 without a GPU.
set -u
cd "$(dirname "$0")/.."
LOG=${1:-bench/gpu_check.log}
PY=${PYTHON:-python}
STEPS=${STEPS:-10}
WARMUP=${WARMUP:-3}
exec > >(tee "$LOG") 2>&1

started=$(date +%s)
status=0
section() { echo; echo "== $1  [$(( $(date +%s) - started )) s]"; }
run_step() {  # name, seconds, command...
    local name=$1 limit=$2
    shift 2
    timeout "$limit" "$@"
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        status=1
        [ "$rc" -eq 124 ] && echo "!! $name: stopped after $limit s" || echo "!! $name: exit $rc"
    fi
}

section "kerasish GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null)"
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader \
    2>/dev/null || echo "nvidia-smi: not found"
GPUS=$($PY - <<'EOF'
try:
    import cupy
    print(cupy.cuda.runtime.getDeviceCount())
except Exception as e:  # no CuPy or no device
    print(0)
EOF
)
$PY -c "import cupy, numpy; print('cupy', cupy.__version__, '| numpy', numpy.__version__)" \
    2>/dev/null || echo "cupy: not importable"
$PY -c "import torch; print('torch', torch.__version__, '| cuda', torch.cuda.is_available())" \
    2>/dev/null || echo "torch: not importable (step 4 needs it)"
echo "GPUs seen by CuPy: $GPUS"
$PY -c "from engine import cudnn; print('GPU conv provider:', cudnn.describe())" \
    2>/dev/null || echo "GPU conv provider: unknown (engine.cudnn.describe() failed)"
if [ "$GPUS" -lt 1 ]; then
    echo "No GPU: nothing to check here (the CuPy stand-in checks run without one)."
    exit 2
fi

section "1/4 pytest -m gpu"
run_step "pytest -m gpu" 240 $PY -m pytest -m gpu -q -p no:cacheprovider -x tests

section "2/4 compiled steps: host reads, Dropout replay, jit on/off, resume"
run_step "gpu_steady_state" 60 $PY bench/gpu_steady_state.py

section "3/4 NCCL data parallel with 2 processes"
if [ "$GPUS" -ge 2 ]; then
    run_step "NCCL 2 ranks" 120 $PY -m pytest -q -p no:cacheprovider -rs \
        tests/distribution/test_nccl_two_ranks.py
else
    echo "Only $GPUS GPU: the 2-process NCCL test needs 2 GPUs and was not run" \
         "(the 1-rank NCCL test ran in step 1)."
fi

section "4/4 bench/run.py all --device gpu (kerasish on CuPy vs PyTorch CUDA)"
run_step "bench/run.py all" 180 $PY bench/run.py all --device gpu --steps "$STEPS" \
    --warmup "$WARMUP" --openblas env --gap 0

section "done: $([ "$status" -eq 0 ] && echo 'every step passed' || echo 'some steps FAILED'); log in $LOG"
exit "$status"
