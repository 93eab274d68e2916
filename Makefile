# homelab.mlflow: set-up, checks and the local demo. Every target sets up what it needs,
# so `make test` and `make demo` each work as one command on a fresh machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
VENV_BIN := $(VENV)/bin
VENV_PYTHON := $(VENV_BIN)/python
# Written when the lock was installed into the venv; a newer lock re-installs.
SETUP_STAMP := $(VENV)/.requirements-installed
# The project's environments install locked, hash-checked sets (requirements/*.txt, from *.in).
DEV_LOCK := requirements/dev.txt
BENCH_LOCK := requirements/bench.txt
# Filters the one upstream warning named in it (see the file), in every program of the venv.
WARNING_FILTERS := tools/python/homelab_mlflow_warnings.pth
# Makes the checkout importable as homelab.mlflow (ansible.cfg: collections_path).
COLLECTION_LINK := .collections/ansible_collections/homelab/mlflow
INVENTORY ?= inventories/local
PLAYBOOK_ARGS ?=
PYTEST_ARGS ?=
# `make test` runs the tests in this many processes (pytest-xdist), a test file per process at a
# time; they share the local test cluster. 1: one process.
TEST_WORKERS ?= 2
BENCH_ARGS ?=
SANITY_ARGS ?=
# The Python version ansible-test sanity checks against (the venv's).
SANITY_PYTHON ?= 3.11
DIST ?= dist

# The venv's tools first, also for the programs they start (ansible-lint runs ansible-playbook).
export PATH := $(CURDIR)/$(VENV_BIN):$(PATH)

.PHONY: help setup lint sanity unit test docs demo build ee bench clean distclean lock lock-check \
	cluster-up cluster-down cluster-status collection-link sanity-pip-bootstrap

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: $(SETUP_STAMP) collection-link ## create .venv from the locked requirements and link the collection

$(SETUP_STAMP): $(DEV_LOCK) $(WARNING_FILTERS)
	@test -x $(VENV_PYTHON) || $(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check --require-hashes -r $(DEV_LOCK)
	install -m 0644 $(WARNING_FILTERS) "$$($(VENV_PYTHON) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
	@touch $@

lock: setup ## write requirements/*.txt anew from requirements/*.in (LOCK_ARGS=--upgrade: newest versions)
	UV=$(CURDIR)/$(VENV_BIN)/uv tools/lock.sh

lock-check: setup ## fail when a lock in requirements/ no longer matches its input
	UV=$(CURDIR)/$(VENV_BIN)/uv tools/lock.sh --check

collection-link:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@test "$$(readlink $(COLLECTION_LINK))" = ../../.. || ln -sfn ../../.. $(COLLECTION_LINK)

# ansible-lint records every Python warning of its run past the venv's filters (WARNING_FILTERS) and
# logs it: the one upstream DSA deprecation named there is dropped from its stderr here too.
UPSTREAM_LINT_NOISE := CryptographyDeprecationWarning DSA is deprecated
lint: setup ## ansible-lint (production profile), ruff, yamllint
	$(VENV_BIN)/ansible-lint 2> >(grep -v '$(UPSTREAM_LINT_NOISE)' >&2)
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/ruff format --check .
	$(VENV_BIN)/yamllint .

# ansible-test wants the collection at ansible_collections/<namespace>/<name>: copy what git
# tracks or would track (untracked but not ignored) into such a tree and test it there.
sanity: setup sanity-pip-bootstrap ## ansible-test sanity on a copy of the collection (local, no containers)
	@tree=$$(mktemp -d); trap 'rm -rf "$$tree"' EXIT; \
	dest="$$tree/ansible_collections/homelab/mlflow"; mkdir -p "$$dest"; \
	git ls-files -z --cached --others --exclude-standard \
	  | while IFS= read -r -d '' f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done \
	  | tar --null --files-from=- -cf - | tar -xf - -C "$$dest"; \
	cd "$$dest" && $(CURDIR)/$(VENV_BIN)/ansible-test sanity --python $(SANITY_PYTHON) --color no $(SANITY_ARGS)

# ansible-test bootstraps pip in its sanity virtualenvs with a script it downloads from a host
# not every machine reaches; tools/sanity/get_pip.py stands in for it (see its docstring).
sanity-pip-bootstrap: setup
	@pip_version=$$($(VENV_PYTHON) -c 'from ansible_test._internal.python_requirements import get_venv_packages as p; \
	  print(p(type("Python", (), {"version": "$(SANITY_PYTHON)"}))["pip"])'); \
	cached="$$HOME/.ansible/test/cache/get_pip_$${pip_version//./_}.py"; \
	test -e "$$cached" || install -D -m 0644 tools/sanity/get_pip.py "$$cached"

unit: setup ## unit tests (no cluster needed)
	$(VENV_BIN)/pytest tests/unit $(PYTEST_ARGS)

# The reference in docs/roles and docs/plugins, from the roles' argument_specs and the plugins' documentation as
# ansible-doc reads them (tools/docs); hand-written prose around the generated blocks stays as it is.
docs: setup ## write the reference pages of docs/roles and docs/plugins anew from the sources
	$(VENV_PYTHON) tools/docs/generate_reference.py

# One pytest run over tests/unit and tests/integration, so one closing count line sums them
# up; the integration tests start the local cluster themselves.
test: setup lock-check lint sanity ## everything CI runs: lint, sanity, unit and integration tests
	$(VENV_BIN)/pytest tests $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

demo: setup cluster-up ## deploy to the local test cluster, run the deployed MLflow and verify it
	tools/install-system-packages.sh postgresql
	tools/demo.sh $(INVENTORY) $(PLAYBOOK_ARGS)

build: setup ## build the collection tarball into dist/
	$(VENV_BIN)/ansible-galaxy collection build --force --output-path $(DIST)

ee: build ## write an execution environment's build context into dist/ee (ansible-builder create)
	$(VENV_BIN)/ansible-builder create --file execution-environment.yml --context $(DIST)/ee

# Heavy (several full runs of the stack): see docs/benchmarks.md; e.g. BENCH_ARGS="--repeat 1 --targets 1,5".
bench: setup cluster-up ## time and count the API requests of converge, no-op and drift runs (bench/results/)
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check --require-hashes -r $(BENCH_LOCK)
	$(VENV_PYTHON) bench/run.py $(BENCH_ARGS)

cluster-up: setup ## start the local test cluster (writes .testcluster/kubeconfig)
	$(VENV_PYTHON) tools/testcluster/testcluster.py up

cluster-down: setup ## stop the local test cluster (and the demo's local MLflow) and remove its state
	$(VENV_PYTHON) tools/localrun/local_mlflow.py stop --state $${HOMELAB_TESTCLUSTER_DIR:-.testcluster}/local-mlflow
	$(VENV_PYTHON) tools/testcluster/testcluster.py down

cluster-status: setup ## show whether the local test cluster runs
	$(VENV_PYTHON) tools/testcluster/testcluster.py status

clean: ## remove build output, caches and the collection link (keeps .venv)
	rm -rf $(DIST) .collections .ansible .pytest_cache .ruff_cache tests/output changelogs/.plugin-cache.yaml
	rm -f homelab-mlflow-*.tar.gz
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## also remove .venv
	rm -rf $(VENV)
