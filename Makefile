# Everything a fresh machine needs: `make demo` and `make test` create the venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint demo bench clean

$(STAMP): pyproject.toml setup.py coders/accel/_speedups.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The suite runs with the C accelerator, then the coder tests again on the pure-Python
# reference path (what a machine without a compiler runs).
test: install
	$(PY) -m pytest -q
	CODERKIT_PURE_PYTHON=1 $(PY) -m pytest -q tests/coders tests/pickling/test_spark.py --ignore=tests/coders/test_speedups.py --ignore=tests/coders/test_leaks.py

# ruff: the lint rules and the formatter configured in pyproject.toml; both must be clean.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

demo: install
	$(PY) examples/demo.py
	$(PY) examples/registry_pipeline.py
	@echo "\n=== coderkit doctor on a pipeline with mistakes (exit status 1 expected) ==="
	@$(VENV)/bin/coderkit doctor examples/doctor/orders_pipeline_broken.py; test $$? -eq 1
	@echo "\n=== coderkit doctor on the fixed pipeline ==="
	@$(VENV)/bin/coderkit doctor examples/doctor/orders_pipeline_fixed.py

bench: install
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
