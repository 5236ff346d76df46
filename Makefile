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

# Until the HTTP server lands, `serve` runs the engine once on the default model.
serve: deps model build
	.build/release/eckart embed --model $(MODEL_DIR) --tokens 101,2023,2003,1037,3231,102

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
