# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install
# layerwise with the pinned dev constraints (torch==2.13.0, the CPU wheel) first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
EXTRAS ?= dev,export,serve,tensorboard,mlflow,tune,mnist1d

.PHONY: install demo test bench bench-quality clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/layerwise train examples/digits.yaml

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(PY) -m benchmarks.startup
	$(PY) -m benchmarks.contended
	$(PY) -m benchmarks.peers --workload W1 W2 W3 W4 W5 --device cpu
	$(PY) -m benchmarks.ddp --workload W1 W2

# model quality with default settings vs scikit-learn MLP, HistGradientBoosting and RealMLP-TD
# (14 tables, 3 seeds: about an hour on 2 shared cores; see benchmarks/QUALITY.md)
bench-quality: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[quality]"
	$(PY) -m benchmarks.quality --results benchmarks/quality_results.jsonl --write benchmarks/QUALITY.md

clean:
	rm -rf $(VENV) runs .pytest_cache
