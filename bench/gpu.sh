#!/usr/bin/env bash
# One prepared run on a GPU machine (one H100/H200, Python 3.12 with torch/transformers/peft, no
# network): the CUDA test, the training benchmark and the chat benchmark, in under ~6 minutes.
#
# On the CPU machine first, from the repo root (needs the venv and PyPI):
#     bash bench/gpu_prep.sh     # .whl/ (missing wheels) and .gpu/ (tokenizer + pairs), both git-ignored
# Then on the GPU machine, from the repo root, with .whl and .gpu carried along:
#     OUT=/some/folder bash bench/gpu.sh
# (as a device-tool call: command `bash bench/gpu.sh`, carry [".whl", ".gpu"], timeout_s 420)
# Dry run on a CPU machine (wheel install skipped without nvidia-smi, CPU-sized settings):
#     PATH=$PWD/.venv/bin:$PATH OUT=/tmp/gpuout bash bench/gpu.sh
#
# Writes to $OUT (at most 8 files come back): env.txt, test_gpu.txt, train.txt, train-<device>.json,
# chat.txt, chat-<device>.json, summary.txt. Every step runs under `timeout`, capped by what is left
# of GPU_DEADLINE_S (default 345 s) for the whole script; a failing step does not stop the next.
# Env: PYTHON (default python3), SKIP_WHEELS=1 (no wheel install), GPU_DEADLINE_S, TRAIN_STEPS.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
: "${OUT:?set OUT to the output folder}"
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
PY=${PYTHON:-python3}
DEADLINE=${GPU_DEADLINE_S:-345}
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False \
       TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
       HF_HUB_DISABLE_PROGRESS_BARS=1

if command -v nvidia-smi >/dev/null 2>&1; then DEVICE=cuda; else DEVICE=cpu; fi

note() { echo "$*" | tee -a "$SUMMARY"; }

# step NAME CAP_S LOG CMD...: run CMD under timeout (CAP_S, or less if the deadline is nearer),
# appending its output to LOG and to stdout; one summary line with exit code and seconds.
step() {
    local name=$1 cap=$2 log=$3 left limit start rc
    shift 3
    left=$(( DEADLINE - SECONDS ))
    if (( left < 20 )); then note "$name: SKIPPED (deadline ${DEADLINE}s reached)"; return 1; fi
    limit=$(( cap < left ? cap : left ))
    start=$SECONDS
    echo "=== $name (limit ${limit}s): $*" | tee -a "$log"
    timeout -k 10 "$limit" "$@" 2>&1 | tee -a "$log"
    rc=${PIPESTATUS[0]}
    local what="rc=$rc"
    (( rc == 124 || rc == 137 )) && what="TIMED OUT (rc=$rc)"
    note "$name: $what, $(( SECONDS - start ))s (limit ${limit}s)"
    return "$rc"
}

# --- 1. wheels the image lacks, then the environment ---------------------------------------------
if [[ $DEVICE == cuda && ${SKIP_WHEELS:-0} != 1 ]]; then
    if ! step wheels 90 "$OUT/env.txt" "$PY" -m pip install -q --no-index --no-deps --no-compile \
            --no-cache-dir --upgrade --target /tmp/site .whl/*.whl; then
        note "wheel install failed: nothing else can run"; cat "$SUMMARY"; exit 1
    fi
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
else
    note "wheels: skipped (device $DEVICE, SKIP_WHEELS=${SKIP_WHEELS:-0})"
fi
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}

{
    echo "PYTHONPATH=$PYTHONPATH"
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
} >> "$OUT/env.txt" 2>&1
step env 60 "$OUT/env.txt" "$PY" -c '
import importlib.metadata as md, platform, sys
print("python", platform.python_version(), sys.executable)
for name in ["torch", "transformers", "peft", "accelerate", "bitsandbytes", "liger-kernel", "triton",
             "tokenizers", "huggingface-hub", "safetensors", "pytest", "pydantic", "langchain-text-splitters"]:
    try:
        print(f"{name:26} {md.version(name)}")
    except md.PackageNotFoundError:
        print(f"{name:26} (not installed)")
import torch
print("cuda", torch.cuda.is_available(), torch.version.cuda,
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
import bitsandbytes, builder.chat, builder.documents, builder.models, builder.train  # noqa: F401
print("imports ok: bitsandbytes, builder.chat, builder.documents, builder.models, builder.train")
'

# --- 2. the CUDA test (skipped without CUDA) -------------------------------------------------------
step test_gpu 120 "$OUT/test_gpu.txt" "$PY" -m pytest -m gpu tests/test_gpu.py -q -rA -p no:cacheprovider --durations=5
if [[ $DEVICE == cuda ]] && grep -q "skipped" "$OUT/test_gpu.txt"; then note "test_gpu: SKIPPED on a CUDA machine (unexpected)"; fi

# --- 3. training benchmark: ours vs the PEFT-documented QLoRA recipe -------------------------------
if [[ $DEVICE == cuda ]]; then
    # two warm-up steps: flex attention compiles for the full 8k row and again for the partial one
    train_args=(--shape qwen2.5-0.5b --tokenizer .gpu/tokenizer --pairs .gpu/pairs.jsonl --row-tokens 8192
                --warmup 2 --steps "${TRAIN_STEPS:-15}")
else  # CPU-sized: the bundled SmolLM2-135M, the default 512-token rows, one timed step
    train_args=(--tokenizer .gpu/tokenizer --pairs .gpu/pairs.jsonl --steps "${TRAIN_STEPS:-1}")
fi
step train_bench 210 "$OUT/train.txt" "$PY" bench/train.py "${train_args[@]}" --out "$OUT/train-$DEVICE.json"

# --- 4. chat benchmark: serving engine (merged, bf16) vs plain generate through peft (4-bit) --------
# On a random-weight Qwen2.5-0.5B-shaped folder built here with the carried tokenizer.
if [[ $DEVICE == cuda ]]; then
    MODEL_DIR=${GPU_MODEL_DIR:-.gpu/qwen05}; chat_extra=()
else  # keep the 1 GB folder out of the tree that travels; few tokens on a CPU
    MODEL_DIR=${GPU_MODEL_DIR:-${TMPDIR:-/tmp}/gpu-dryrun-qwen05}; chat_extra=(--new-tokens 4)
fi
if step build_model 60 "$OUT/chat.txt" "$PY" bench/train.py --shape qwen2.5-0.5b --tokenizer .gpu/tokenizer \
        --save-model "$MODEL_DIR"; then
    step chat_bench 120 "$OUT/chat.txt" "$PY" bench/chat.py --base "$MODEL_DIR" --baseline-quantize 4bit \
        --skip-eval --out "$OUT/chat-$DEVICE.json" "${chat_extra[@]}"
fi

# --- summary -----------------------------------------------------------------------------------------
{
    echo "--- device: $DEVICE, total ${SECONDS}s"
    grep -hE "^(NVIDIA|name)|^cuda " "$OUT/env.txt"
    echo "--- test_gpu:"; tail -n 1 "$OUT/test_gpu.txt"
    echo "--- train bench:"; grep -hE "^(peft |ours |ours/peft)" "$OUT/train.txt"
    echo "--- chat bench:"; grep -vE "Loading weights|warn" "$OUT/chat.txt" | tail -n 10
    echo "--- files:"; ls -l "$OUT"
} >> "$SUMMARY" 2>&1
echo; echo "===== SUMMARY ====="; cat "$SUMMARY"
