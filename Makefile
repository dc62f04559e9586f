# Two commands do all set-up on a fresh machine:
#   make run    start the tool on the shipped data
#   make test   run the whole test suite (what .ci/run calls)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MODEL ?= models/dln_base.toml

.PHONY: run test lint data bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[app,dev,dask]'
	touch $@

run: $(VENV)/.installed
	$(PY) -m optimiser validate $(MODEL)

test: $(VENV)/.installed
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check optimiser tests scripts benchmarks

data: $(VENV)/.installed
	$(PY) scripts/build_data.py
	$(PY) scripts/make_template.py

bench: $(VENV)/.installed
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache
