# make setup: a .venv with the project and its extras, and the verified names data.
# make train / make test set up first when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the venv's bin/ first on PATH: nbgrader calls `alembic` and `jupyter` by name
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: setup train test test-fast release checkpoint benchmark clean

setup: $(STAMP) data/names.txt
	$(BIN)/python -m autograder.build_chapters --files  # each chapter's data and helpers beside it

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[course,test]"
	touch $@

data/names.txt: | $(STAMP)
	$(BIN)/python -c "from microgpt.data import ensure_names; print('names data verified:', ensure_names())"

train: setup
	$(RUN) $(BIN)/python -m microgpt train

test: setup
	$(RUN) $(BIN)/python -m pytest

test-fast: setup
	$(RUN) $(BIN)/python -m pytest -m "not slow"

# the learners' notebooks: release/NN_name/, solutions stubbed out and hidden tests removed
release: setup
	for chapter in chapters/*/; do $(RUN) $(BIN)/nbgrader generate_assignment "$$(basename $$chapter)" --force || exit 1; done

# remake the checkpoint the later chapters load (seed 42, 1,000 steps, the defaults) and its loss curve
checkpoint: setup
	$(RUN) $(BIN)/python -m microgpt train --save data/microgpt-names-1000.json \
		--metrics data/microgpt-names-1000.metrics.jsonl --num-samples 0

benchmark: setup
	$(RUN) $(BIN)/python benchmarks/train_speed.py
	$(RUN) $(BIN)/python benchmarks/check_speed.py

clean:
	rm -rf $(VENV) release submitted autograded feedback gradebook.db
