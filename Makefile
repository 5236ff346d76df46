# Eckart: `make serve` and `make test` are the two commands of the README.
SWIFT ?= swift
MODEL_DIR ?= models/all-MiniLM-L6-v2
FIXTURE_VENV ?= $(HOME)/.cache/eckart/venv-fixtures

.PHONY: serve test deps model build bench fixtures clean

deps:
	@scripts/install-deps.sh

model:
	@scripts/fetch-model.sh $(MODEL_DIR)

build: deps
	$(SWIFT) build -c release --product eckart

PORT ?= 8080
ADAPTER_DIR ?= data/adapters

# Serves the default model (or MODEL_DIR) on 127.0.0.1:$(PORT); adapters persist in $(ADAPTER_DIR).
serve: deps model build
	.build/release/eckart serve --model $(MODEL_DIR) --port $(PORT) --adapter-dir $(ADAPTER_DIR) \
		--adapter-root $(CURDIR)

test: deps model
	ECKART_PYTHON=$$(scripts/test-python.sh) ECKART_MINILM_DIR=$(CURDIR)/$(MODEL_DIR) $(SWIFT) test

bench: deps
	$(SWIFT) run -c release eckart bench

# Regenerates Tests/Fixtures from transformers + peft (needs torch; see Tests/Fixtures/README.md).
fixtures: model
	@test -x $(FIXTURE_VENV)/bin/python || (python3 -m venv $(FIXTURE_VENV) && \
		$(FIXTURE_VENV)/bin/pip install --quiet torch==2.13.0+cpu transformers peft)
	$(FIXTURE_VENV)/bin/python Tests/Fixtures/generate.py --minilm $(MODEL_DIR)

clean:
	rm -rf .build
