# Developer entry points. Every target bootstraps .venv when it is missing, so
# `make test` and `make demo` work on a fresh clone with nothing else done.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLL_ROOT := $(VENV)/collections
COLL_LINK := $(COLL_ROOT)/ansible_collections/meshpki/istio_ca
STAMP := $(VENV)/.stamp
# The checkout the venv belongs to: a directory whose .venv is a symlink (the docs test's clone-like tree)
# must not re-point the venv's links at itself.
VENV_OWNER = $(or $(shell cd -P $(VENV)/.. 2>/dev/null && pwd),$(CURDIR))
SANITY_TREE := build/sanity/ansible_collections/meshpki/istio_ca
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLL_ROOT)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Every tool's state stays in the project (.ansible/, git-ignored and not built): ansible's tmp and galaxy
# cache, ansible-lint's install of this collection (ansible-compat's cache dir is $ANSIBLE_HOME when no
# VIRTUAL_ENV is set, prerun.get_cache_dir) and molecule's scenario state (the same cache dir's tmp/). Without
# it ansible-lint left a copy of the collection in ~/.ansible/collections, after which installing the built
# tarball said "Nothing to do".
export ANSIBLE_HOME := $(CURDIR)/.ansible
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv browser test test-lane1 test-lane2 unit kubesim-test integration molecule lint sanity build demo bench report-shot changelog-lint clean

help:
	@echo "make demo    - simulated 3-cluster fleet: deploy, rotate, report"
	@echo "make test    - everything CI runs: pytest, molecule, ansible-lint, build, sanity"
	@echo "make venv | unit | kubesim-test | integration | molecule | lint | sanity | build | bench | report-shot | browser"

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt meta/ee-requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	mkdir -p $(dir $(COLL_LINK))
	ln -sfn $(VENV_OWNER) $(COLL_LINK)
	# Make the collection and the kubesim test package importable in the venv.
	echo "$(VENV_OWNER)/$(COLL_ROOT)" > $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/meshpki_dev.pth
	echo "$(VENV_OWNER)/tests" >> $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/meshpki_dev.pth
	printf '#!/bin/sh\nexec "%s/%s/python" -m kubesim "$$@"\n' "$(VENV_OWNER)" "$(BIN)" > $(BIN)/kubesim
	chmod +x $(BIN)/kubesim
	touch $(STAMP)

# Headless Chromium for the report's browser tests and `make report-shot`: Debian's chromium package,
# installed when /usr/bin/chromium is missing (as root, or with passwordless sudo). Nothing else needs it.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium (headless browser tests, report-shot)"; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium \
		|| { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }; }
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) is still missing: apt-get install -y chromium"; exit 1; }

# What CI runs (.ci/run). Each step runs for real as soon as there is content for it.
# Two lanes run side by side (-j2) to use both cores; within a lane the steps run in order:
#   lane 1: unit tests, then the integration suite (the longest step);
#   lane 2: the simulator's own tests, molecule, then the static checks (lint, changelog, build, sanity).
# They share only the read-only tree (every simulated fleet gets its own free ports and temp dir).
# --output-sync prints each step's log in one piece when it ends; any step failing fails `make test`.
test: venv
	$(MAKE) --no-print-directory -j2 --output-sync=target test-lane1 test-lane2

test-lane1: venv
	$(MAKE) unit integration

test-lane2: venv
	$(MAKE) kubesim-test
	$(MAKE) molecule
	$(MAKE) lint
	$(MAKE) changelog-lint
	$(MAKE) build
	$(MAKE) sanity

unit: venv
	$(BIN)/pytest -q tests/unit

kubesim-test: venv
	@if ls tests/kubesim/test_*.py >/dev/null 2>&1; then $(BIN)/pytest -q tests/kubesim; else echo "kubesim: no tests yet"; fi

# Two pytest-xdist workers, one test file per unit of work (--dist loadfile): tests of a file share
# module-scoped fleets and run in file order on one worker. (--dist loadgroup would be finer but
# xdist 3.8 cannot set its groups on pytest 9.2 node ids: every test would float on its own.)
# The browser is installed first and required (MESHPKI_REQUIRE_BROWSER: its tests fail, not skip, without it).
integration: venv browser
	@if ls tests/integration/test_*.py >/dev/null 2>&1; then MESHPKI_REQUIRE_BROWSER=1 $(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=10 tests/integration; else echo "integration: no tests yet"; fi

# Destroy first: molecule keeps its state in $(ANSIBLE_HOME)/tmp, so a run cut short leaves
# "created: true" for a shared fleet that no longer runs, and the next run would skip create.
# One mtime for every molecule.yml: with shared_state all scenarios share one state.yml, which records
# the first scenario's molecule.yml mtime, and each other scenario whose molecule.yml has another mtime
# (any fresh clone: git sets checkout times) warns "The scenario config file ... has been modified since
# the scenario was created" (molecule/config.py, Config.state).
molecule: venv
	@if ls extensions/molecule/*/molecule.yml >/dev/null 2>&1; then \
		touch -r extensions/molecule/config.yml extensions/molecule/*/molecule.yml; \
		$(BIN)/molecule destroy --all >/dev/null 2>&1 || true; \
		$(BIN)/molecule test --all; \
	else echo "molecule: no scenarios yet"; fi

lint: venv
	$(BIN)/ansible-lint --profile production

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

build: venv
	mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .

# ansible-test needs the tree under ansible_collections/<ns>/<name> and, offline, a pip
# bootstrap shim (docs/upstream/ansible.md#ansible-test-get-pip).
sanity: venv
	$(BIN)/python scripts/install_get_pip_shim.py
	rm -rf $(SANITY_TREE) && mkdir -p $(SANITY_TREE)
	git ls-files -co --exclude-standard | grep -v -e '^tests/kubesim/' -e '^bench/' | while read -r f; do [ -e "$$f" ] && echo "$$f"; done | xargs -d '\n' cp --parents -t $(SANITY_TREE)/
	cd $(SANITY_TREE) && git init -q && git add -A
	cd $(SANITY_TREE) && $(CURDIR)/$(BIN)/ansible-test sanity --python 3.11 --requirements --color no

demo: venv
	$(BIN)/python scripts/demo.py

bench: venv
	$(BIN)/python bench/run.py

# The first screen (1400x900) of report.html at 5, 30 and 200 synthetic clusters: build/report-shot/*.png
report-shot: venv browser
	$(BIN)/python scripts/report_shot.py

clean:
	rm -rf build tests/output .pytest_cache
