# `make demo` and `make test` each set up .venv on a fresh machine by themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: demo test docs bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(PIP) install -q -e '.[all]'
	touch $@

# mpi4py (fukaku.distributed's tests) only where an MPI library is installed: it builds against it
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[test]'
	if command -v mpicc >/dev/null; then $(PIP) install -q -e '.[mpi]'; fi
	touch $@

# the lab's quick tour: every experiment on embedded data, one verdict line each, then the report
demo: $(VENV)/.installed
	$(PY) -m fukaku lab run --all --quick --out lab-report

test: $(VENV)/.installed-test
	$(PY) -m pytest

# the documentation site in site/ (mkdocs, strict: a broken link or a stale API name fails it): the lab
# report it shows is made first when lab-report/ has none; tools/build_docs.py says what it generates
docs: $(VENV)/.installed-test
	# the lab exits 1 when a claim does not hold: the report still holds the verdicts the map shows
	test -f lab-report/results.json || $(PY) -m fukaku lab run --all --quick --out lab-report || test -f lab-report/results.json
	$(PY) tools/build_docs.py --lab-report lab-report --site site

bench: $(VENV)/.installed-test
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_train.py

clean:
	rm -rf $(VENV) build *.egg-info
