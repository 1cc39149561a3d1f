# Every target sets up what it needs: a .venv with the project, and the Debian packages it uses.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.otemachi-installed

.PHONY: setup sysdeps demo test bench lint serve lock clean

setup: sysdeps $(STAMP)

$(BIN)/python:
	@bash scripts/sysdeps.sh venv
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

sysdeps:
	@bash scripts/sysdeps.sh

demo: setup
	$(BIN)/otemachi demo

# One process per core (files stay together, so a file's fixtures are built once), one thread each.
test: setup
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n auto --dist loadfile

bench: setup
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,bench]'
	$(BIN)/otemachi picking train
	$(BIN)/otemachi signatures train
	@mkdir -p benchmarks/out
	@for f in benchmarks/*.py; do echo "== $$f"; out=benchmarks/out/$$(basename $$f .py).txt; \
	  $(BIN)/python $$f > $$out || { cat $$out; exit 1; }; cat $$out; done

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

serve: setup
	$(BIN)/otemachi serve

lock: $(BIN)/python
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^otemachi' > requirements.lock

clean:
	rm -rf $(VENV) otemachi-report .pytest_cache .mypy_cache .ruff_cache
