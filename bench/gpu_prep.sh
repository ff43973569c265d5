#!/usr/bin/env bash
# Prepare, on a CPU machine with the repo's venv and network to PyPI, what bench/gpu.sh needs on a
# GPU machine that has no network, no bundled model and not all of our Python packages:
#   .whl/  wheels the GPU image lacks (bitsandbytes, liger-kernel, datasets, gguf via the shared
#          fetch-wheels.sh, plus what builder/ imports at module level and the image does not have:
#          langchain-text-splitters and its pydantic stack, rapidfuzz, tenacity, json-repair, bm25s,
#          PyStemmer (search, which the training recall check uses), lemminflect and pysbd (the rules
#          generator, which tests/test_gpu.py runs), trl (the benchmark baseline),
#          python-docx, beautifulsoup4, pypdf), each pinned to the version installed in the venv;
#   .gpu/tokenizer/    the bundled SmolLM2 tokenizer (chat template included) and its config.json,
#                      no weights: a folder that builder.models.load_tokenizer accepts;
#   .gpu/pairs.jsonl   the rule-generated pairs of the sample corpus (bench/train.py's default).
# Both folders are ignored through .git/info/exclude (not .gitignore) and travel as `carry`.
# Usage, from the repo root:   bash bench/gpu_prep.sh
# Env: PYTHON (default .venv/bin/python), SHARED (default ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
SHARED=${SHARED:-../shared}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false GRADIO_ANALYTICS_ENABLED=False

# Import-time needs of builder/ (train, pairs, documents, chunking, ingest) missing from the GPU image
# (see the device notes' package list); the image has pyyaml, httpx, lxml, jinja2, requests, tqdm.
EXTRA=(langchain-text-splitters langchain-core pydantic pydantic-core typing-inspection annotated-types
       typing-extensions uuid-utils rapidfuzz json-repair tenacity python-docx beautifulsoup4 soupsieve pypdf
       bm25s PyStemmer lemminflect pysbd trl)
pins=$("$PY" -c 'import sys, importlib.metadata as m; print(" ".join(f"{n}=={m.version(n)}" for n in sys.argv[1:]))' "${EXTRA[@]}")

rm -rf .whl   # one version of each wheel, or the install there stops
# shellcheck disable=SC2086
bash "$SHARED/gpu/fetch-wheels.sh" $pins

grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf .gpu && mkdir -p .gpu/tokenizer
"$PY" - <<'EOF'
import shutil
from pathlib import Path

from builder.models import load_tokenizer, resolve_model

source = Path(resolve_model("bundled"))
load_tokenizer("bundled").save_pretrained(".gpu/tokenizer")
shutil.copyfile(source / "config.json", ".gpu/tokenizer/config.json")  # load_tokenizer wants a model folder
EOF
PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH} "$PY" bench/train.py --tokenizer .gpu/tokenizer --save-pairs .gpu/pairs.jsonl

ls -l .gpu .gpu/tokenizer
du -sh .whl .gpu
untracked=$(git ls-files -z --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
tracked=$(git ls-files -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
carried=$(du -cb .whl .gpu | tail -1 | cut -f1)
echo "travels: $(( (${tracked:-0} + ${untracked:-0} + carried) / 1048576 )) MiB of 64 (tree + untracked + .whl + .gpu)"
