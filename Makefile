# Two commands do all the set-up on a fresh machine:
#   make seeds   analyze the five seed articles against an index of the clean seeds (003, 004)
#   make test    run the test suite
# Both create the virtual environment in .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SHARED ?= ../shared
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[train,eval,test,ray,serve]"
	touch $@

.PHONY: install seeds test
install: $(VENV)/.installed

seeds: install
	$(VENV)/bin/spin-detect index build $(SHARED)/seeds/003_1942315409801798.txt $(SHARED)/seeds/004_efa578a6a8d258fa.txt --out build/seed-index
	$(VENV)/bin/spin-detect analyze $(SHARED)/seeds/0*.txt --index build/seed-index --format markdown

test: install
	$(PY) -m pytest -q
