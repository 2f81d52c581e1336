# make setup: a .venv with the project and its extras, and the verified names data.
# make train / make test set up first when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the venv's bin/ first on PATH: nbgrader calls `alembic` and `jupyter` by name
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: setup python-check site-deps site start train lint test test-fast release checkpoint benchmark clean clean-grading

setup: python-check $(STAMP) data/names.txt
	$(BIN)/python -m autograder.authoring.build_chapters --files  # each chapter's data and helpers beside it

# the course needs Python 3.11+ (nbgrader 0.9 does): stop with a clear message otherwise, and
# replace a .venv made by an older (or vanished) Python instead of reusing it
PY_OK := import sys; sys.exit(sys.version_info < (3, 11))
python-check:
	@if [ -d $(VENV) ] && ! $(BIN)/python -c '$(PY_OK)' 2>/dev/null; then \
		echo "replacing $(VENV): it was made by $$($(BIN)/python --version 2>/dev/null || echo 'a Python that no longer runs'); the course needs Python 3.11+" >&2; \
		rm -rf $(VENV); fi
	@[ -d $(VENV) ] || $(PYTHON) -c '$(PY_OK)' 2>/dev/null || { \
		echo "error: the course needs Python 3.11 or newer, and $(PYTHON) is $$($(PYTHON) --version 2>/dev/null || echo 'not found'); install Python 3.11+ and run: make PYTHON=python3.11 $(or $(MAKECMDGOALS),setup)" >&2; \
		exit 1; }

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[course,test]"
	touch $@

# the browser site's build inputs, all pinned in autograder/jupyterlite/: JupyterLite in an environment
# of its own (build/jupyterlite-tools/, from requirements.txt: beside JupyterLab its kernel extension would
# break JupyterLab; outside the package, so nothing of it is shipped), the npm packages (the Pyodide core, axe-core for the browser test) and the
# kernel's pure-Python wheels (wheels.txt)
SITE := autograder/jupyterlite
LITE_TOOLS := build/jupyterlite-tools
SITE_STAMP := $(LITE_TOOLS)/.installed
site-deps: $(SITE_STAMP)

$(SITE_STAMP): $(STAMP) $(SITE)/requirements.txt $(SITE)/package-lock.json $(SITE)/wheels.txt
	test -x $(LITE_TOOLS)/bin/python || $(BIN)/python -m venv $(LITE_TOOLS)
	$(LITE_TOOLS)/bin/python -m pip install --quiet -r $(SITE)/requirements.txt
	cd $(SITE) && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python -m pip download --quiet --require-hashes --no-deps --only-binary=:all: --python-version 3.14 \
		--implementation py --abi none --platform any -d $(SITE)/wheels -r $(SITE)/wheels.txt
	touch $@

data/names.txt: | $(STAMP)
	$(BIN)/python -m microgpt data  # offline: one line saying where to put names.txt

train: setup
	$(RUN) $(BIN)/python -m microgpt train

# two workers, each test module on one of them (its module-scoped fixtures are made once); test_chapters.py
# is split per chapter, and the longest scopes start first (tests/conftest.py)
PYTEST := $(RUN) $(BIN)/python -m pytest -n 2 --dist loadscope

# ruff ([tool.ruff] in pyproject.toml): the layout, then the lint rules; make test stops here on a finding
lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

test: lint site-deps
	$(PYTEST)

test-fast: lint site-deps
	$(PYTEST) -m "not slow"

# the course as a static JupyterLite site in build/site/ (runs in the browser, offline too)
site: setup site-deps
	$(RUN) $(BIN)/microgpt-course site

# the learner's workspace/ (every chapter's learner version), then JupyterLab on chapter 1
start: setup
	$(RUN) $(BIN)/microgpt-course start

# the learners' notebooks: release/NN_name/, solutions stubbed out and hidden tests removed
release: setup
	$(RUN) $(BIN)/microgpt-course release

# remake the checkpoint the later chapters load (seed 42, 1,000 steps, the defaults) and its loss curve
checkpoint: setup
	$(RUN) $(BIN)/python -m microgpt train --save data/microgpt-names-1000.json \
		--metrics data/microgpt-names-1000.metrics.jsonl --num-samples 0

benchmark: setup
	$(RUN) $(BIN)/python benchmarks/train_speed.py
	$(RUN) $(BIN)/python benchmarks/check_speed.py
	$(RUN) $(BIN)/python benchmarks/grade_speed.py
	$(RUN) $(BIN)/python benchmarks/feedback_truth.py

# what can be remade; never a class's grading data or a learner's workspace/ (see clean-grading)
clean:
	rm -rf $(VENV) release feedback gradescope build .pytest_cache .hypothesis *.egg-info $(SITE)/node_modules $(SITE)/wheels
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

# a class's submissions, grades, flags and logs, gone for good: export the grades first
clean-grading:
	rm -rf submitted autograded feedback gradebook.db grading
