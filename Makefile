# Two commands on a fresh machine:  make run  (set up, then serve the chat page)  and  make test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch's CPU build, installed before anything asks for torch: a bare "torch" requirement would pull a
# multi-GB CUDA build. Where the CPU wheel is not on local disk, add its index, e.g.
#   make run TORCH_PIP_OPTIONS="--index-url https://download.pytorch.org/whl/cpu"
TORCH ?= torch==2.13.0
TORCH_PIP_OPTIONS ?=
INSTALLED := $(VENV)/.installed

# The browser tests drive Debian's chromium (Playwright's own browser download is not reachable offline).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test index eval squad reader weights clean

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH) $(TORCH_PIP_OPTIONS)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

run: setup
	$(BIN)/python app.py

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium

test: setup $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

index: setup
	$(BIN)/askbalkans index

eval: setup
	$(BIN)/askbalkans eval --gold eval/gold.jsonl --json eval/gold-report.json --plot eval/gold-report.png

squad: setup
	$(BIN)/askbalkans eval --squad ../shared/benchmarks/squad-dev-v1.1.json --json eval/cache/squad-report.json --plot eval/squad-report.png
	$(BIN)/askbalkans eval --squad ../shared/benchmarks/squad-dev-v1.1.json --part unanswerable --json eval/cache/squad-unanswerable-report.json

# Train the reader (src/askbalkans/reader.safetensors, reader.json; about 35 minutes on 2 cores), then refit
# the weights that depend on it (weights.json).
reader: setup
	$(BIN)/python eval/train_reader.py
	$(MAKE) weights

weights: setup
	$(BIN)/python eval/fit_weights.py ../shared/benchmarks/squad-dev-v1.1.json --write

clean:
	rm -rf $(VENV) index/CURRENT index/gen-* index/seg-* eval/cache
