# Front door. `make demo` and `make test` do their own set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export NUMBA_CACHE_DIR := $(CURDIR)/build/numba-cache
export MPLBACKEND := Agg

.PHONY: setup demo test bench match ising clean

setup: $(STAMP)  ## create .venv and install the project with its dev extras

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

demo: setup  ## the main job on built-in defaults: the softmax-match experiment (-> build/demo)
	$(PY) -m pysampler.experiments match --out build/demo

test: setup  ## the whole test suite
	$(PY) -m pytest -n 2 tests

bench: setup  ## speed of the bit-accurate model and float Gibbs -> results/bench.json
	$(PY) -m pysampler.bench --out results/bench.json

match: setup  ## softmax-match tables -> results/match.md, results/match.csv
	$(PY) -m pysampler.experiments match --out results

ising: setup  ## Ising convergence table -> results/ising.md
	$(PY) -m pysampler.experiments ising --out results

clean:
	rm -rf build .pytest_cache
