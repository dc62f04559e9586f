# Two commands do all set-up on a fresh machine:
#   make run    start the board-workshop app on the shipped data (http://localhost:8501)
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
	$(PY) -m streamlit run app.py

# The browser tests drive Debian's Chromium and the scenario store is tested on a throwaway
# PostgreSQL server: install either when missing (CI runs as root, with no standard input).
test: $(VENV)/.installed
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian packages:$$missing"; \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing \
			</dev/null) || true; \
	fi
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
