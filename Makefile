# The two commands: `make run` (nightly flow on the bundled recordings, SQLite, local Prefect)
# and `make test` (the whole suite). Both create .venv and install on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED = false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180
export GX_ANALYTICS_ENABLED = false
export DO_NOT_TRACK = 1
export TQDM_DISABLE = 1

.PHONY: run test live bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/citylinks run

live: $(STAMP)
	$(BIN)/citylinks run --live

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_identity_gold.py
	$(BIN)/python bench/bench_history.py 100000 300000
	$(BIN)/python bench/bench_resolver.py
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_funding_text.py
	$(BIN)/python bench/bench_outputs.py

clean:  # the warehouse itself lives in $CITYLINKS_HOME (README § Configuration) and is kept
	rm -rf $(VENV) .prefect
