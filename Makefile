# Every target works on a fresh clone: `make test` makes the virtualenv it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help install generate descriptions test lint typecheck check clean demo sandbox bench reference api-diff api-check

help:
	@echo "make demo       set up .venv (first run), start the local sandbox and drive a full seller flow"
	@echo "make test       set up .venv (first run) and run the tests"
	@echo "make sandbox    serve the local TikTok Shop sandbox (prints its URL and app credentials)"
	@echo "make bench      run the benchmarks in benchmarks/ (figures, not pass/fail)"
	@echo "make generate   regenerate generated/ from spec/ (prints the time it took and the API change)"
	@echo "make api-check  fail on breaking API changes against BASE (default: newest v* tag, else HEAD~1)"
	@echo "                that spec/api.yaml intended_changes does not name; make api-diff lists all"
	@echo "make descriptions  copy spec/descriptions/ texts into spec/*.yaml (then make generate)"
	@echo "make lint       ruff check and ruff format --check"
	@echo "make typecheck  mypy --strict on runtime/, sandbox/, cli/ and generated/; pyright strict on the package (standard on sandbox/) and examples/typed_usage.py"
	@echo "make check      lint + typecheck + test"
	@echo "make reference  refresh tests/reference/ from a folder of reference facts: make reference REF=DIR"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

generate: $(STAMP)
	@$(PY) -m codegen.generate

# The public API against a git revision: BASE=auto is the newest v* tag, else the previous commit.
BASE ?= auto
api-diff: $(STAMP)
	@$(PY) -m codegen.api_diff --base $(BASE) --all

api-check: $(STAMP)
	@$(PY) -m codegen.api_diff --base $(BASE) --check

descriptions: $(STAMP)
	@$(PY) -m codegen.apply_descriptions

demo: $(STAMP)
	$(PY) examples/demo.py

sandbox: $(STAMP)
	$(PY) -m tiktokshop.sandbox

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# mypy cannot follow the editable install's import hook, so it reads the package through a
# tree of symlinks laid out as it is installed (runtime/ as tiktokshop/; sandbox/, cli/ and generated/ inside it).
typecheck: $(STAMP)
	@rm -rf build/typecheck && mkdir -p build/typecheck/tiktokshop
	@cp -rs $(CURDIR)/runtime/. build/typecheck/tiktokshop/
	@cp -rs $(CURDIR)/sandbox $(CURDIR)/cli $(CURDIR)/generated/types $(CURDIR)/generated/resources build/typecheck/tiktokshop/
	cd build/typecheck && ../../$(PY) -m mypy --config-file ../../pyproject.toml -p tiktokshop
	MYPYPATH=build/typecheck $(PY) -m mypy --strict --warn-unused-ignores examples/typed_usage.py tests/static/misuse.py
	$(VENV)/bin/basedpyright --project pyproject.toml --pythonpath $(PY)

check: lint typecheck test

# The tests' own snapshot of the reference facts; run it when the reference folder changes.
# REF names the folder of reference facts (docs.json, openapi_tiktok_202601.json, operations.json...).
reference: $(STAMP)
	@test -n "$(REF)" || { echo "make reference needs REF=<folder of the reference facts>"; exit 2; }
	$(PY) -m codegen.reference_snapshot $(REF)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
