#!/usr/bin/env bash
# The GPU check of fukaku's CUDA backend (issue 16, items 2 and 3), for one run on a lent H100/H200, in under
# 8 minutes:
#
#   1. the environment: nvidia-smi, Python, NumPy, CuPy, PyTorch (env.txt);
#   2. the device tests on the GPU: FUKAKU_TEST_DEVICE=cuda pytest tests/backends tests/test_devices.py
#      tests/test_backends.py
#      (the ops' forward and backward, the training steps and the checkpoints, on CuPy, against the CPU;
#      device-tests.txt, device-tests.xml);
#   3. benchmarks/bench_gpu.py: GPT-mini and ResNet-20 training steps, fukaku on CuPy vs PyTorch CUDA eager,
#      target <= 2x, with a host-time profile of fukaku's steps (bench_gpu.txt, bench_gpu.json, profile.txt);
#   4. benchmarks/bench_amp.py: float32 vs autocast(float16) + GradScaler training of a CNN and a GPT-mini on the
#      GPU, final loss and accuracy of each (bench_amp.txt).
#
# Results go to $OUT (the device tool's result folder; a temporary one elsewhere); the exit status is the tests'.
# Run it from a copy of the repository:  bash tools/gpu_check.sh
#
# Python: the machine's own python3 (PYTHON=... to choose another), which must hold NumPy, pytest and a CUDA
# build of PyTorch; fukaku itself runs from the checkout (PYTHONPATH), nothing is installed. A virtual
# environment made on another machine is not carried (too large, and built for that machine). CuPy: used when
# python3 imports it (any cupy-cudaXX wheel matching the driver: cupy-cuda12x, cupy-cuda13x); else wheels
# carried in .whl/ are installed to /tmp/site; else pip is tried, which fails on a machine that reaches no
# package registry -- then the check stops and says so in env.txt.
set -u -o pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
echo "results in $OUT"

if ! "$PY" -c "import cupy" 2>/dev/null; then
    if compgen -G ".whl/cupy*.whl" >/dev/null; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
            && export PYTHONPATH="/tmp/site:$PYTHONPATH"
    else
        timeout 20 "$PY" -m pip install -q cupy-cuda12x || echo "pip could not install cupy-cuda12x"
    fi
fi

{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
    "$PY" - <<'EOF'
import platform, numpy
print("python", platform.python_version(), "numpy", numpy.__version__)
try:
    import cupy
    print("cupy", cupy.__version__, "devices", cupy.cuda.runtime.getDeviceCount())
except Exception as e:
    print("cupy unavailable:", type(e).__name__, e)
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.cuda.is_available())
except Exception as e:
    print("torch unavailable:", type(e).__name__, e)
import fukaku
from fukaku.backends.cupy_backend import unavailable_reason
print("fukaku.cuda.is_available()", fukaku.cuda.is_available(), unavailable_reason())
EOF
} 2>&1 | tee "$OUT/env.txt"

if ! "$PY" -c "import fukaku, sys; sys.exit(not fukaku.cuda.is_available())"; then
    echo "gpu_check: fukaku sees no GPU (see env.txt): nothing to check" | tee -a "$OUT/env.txt"
    exit 2
fi

# several workers share the GPU (each has its own CUDA context): CuPy compiles each new kernel once per process
workers=()
"$PY" -c "import xdist" 2>/dev/null && workers=(-n 6)
SECONDS=0
FUKAKU_TEST_DEVICE=cuda timeout 200 "$PY" -m pytest -q -p no:cacheprovider "${workers[@]}" --tb=short -rfE \
    tests/backends tests/test_devices.py tests/test_backends.py \
    --junitxml "$OUT/device-tests.xml" > "$OUT/device-tests.txt" 2>&1
tests=$?
tail -n 40 "$OUT/device-tests.txt"
echo "device tests: exit $tests, ${SECONDS} s"

SECONDS=0
timeout 130 "$PY" benchmarks/bench_gpu.py --repeats 10 --json "$OUT/bench_gpu.json" --profile "$OUT/profile.txt" \
    2>&1 | tee "$OUT/bench_gpu.txt"
echo "bench_gpu: ${SECONDS} s"
SECONDS=0
timeout 90 "$PY" benchmarks/bench_amp.py 2>&1 | tee "$OUT/bench_amp.txt"
echo "bench_amp: ${SECONDS} s"
exit "$tests"
