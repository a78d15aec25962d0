# Two commands do all set-up on a fresh machine:
#   make demo   install, then train / label / test a small network on real MNIST
#   make test   install, then run the test suite
#   make study  install, then re-derive every result and results/REPORT.md (Snakemake, docs/pipeline.md)
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The shared, checksummed data copy when it is beside the project; otherwise the
# loaders download into a user cache (or wherever SNN_DATA_DIR points).
ifneq ($(wildcard ../shared/data/mnist),)
export SNN_DATA_DIR ?= $(abspath ../shared/data)
endif

.PHONY: setup demo test bench study study-tiny
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: an unpinned torch pulls several GB of CUDA packages
	$(BIN)/pip install -q torch==2.13.0
	# the pipeline extra (Snakemake) too, so that the suite's workflow test runs rather than skips
	$(BIN)/pip install -q -e ".[test,pipeline]"
	touch $@

demo: setup
	rm -rf runs/demo
	$(BIN)/python -m bio.train_stdp --dset mnist --n-exc 100 --n-train 5000 --n-test 1000 --out runs/demo

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m benchmarks.bio_speed

# The full study on this machine: ~20 h of jobs, at least ~15 h on 2 cores (python -m workflow -n lists them)
study: setup
	$(BIN)/python -m workflow

# The whole DAG at toy sizes into build/study-tiny (minutes): every command, input and the report together
study-tiny: setup
	$(BIN)/python -m workflow --study tiny
