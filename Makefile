# Two commands matter: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run test lint security browser-deps clean-data

run: $(VENV)/.runtime
	$(BIN)/python -m dashboard serve

test: $(VENV)/.dev browser-deps
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy

# High-severity bandit findings and known CVEs in the pins (pip-audit needs PyPI's JSON API or OSV).
security: $(VENV)/.dev
	$(BIN)/bandit -q -r dashboard datasources callbacks layouts -lll
	$(BIN)/pip-audit -r requirements.txt --no-deps --disable-pip --progress-spinner off

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(PIP) -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Chromium, its driver and a CJK font come from Debian; installed only when missing.
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	    && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk; \
	fi

clean-data:
	rm -rf data/
