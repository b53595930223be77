# Two commands do everything on a fresh machine: `make report` and `make test`.
# Both create .venv and install torch==2.13.0 first (before anything that depends on it,
# so pip does not pull a CUDA build), then this package with its report and dev extras.
# Quarto is found (or installed) by tools/quarto.sh; see the README.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.trustml-installed
export TRUSTML_DATA ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),data)
export QUARTO_PYTHON := $(abspath $(PY))

.PHONY: report report-smoke chapter results test lint venv clean-smoke bench check-html zip

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e '.[report,dev]'
	# torchattacks (reference attacks for the cross-check test) needs no torchvision: --no-deps
	$(PY) -m pip install --quiet --no-deps "torchattacks==3.5.1"
	touch $(STAMP)

# The full book with Quarto into _book/ (HTML + _book/trustml.pdf), from _freeze and the cache.
report: $(STAMP)
	@tools/render.sh

# One chapter to HTML only, the writer's loop: `make chapter CH=ex4-membership` runs that
# chapter's cells (results loaded from the cache) into _book/chapters/CH.html (tools/chapter.sh).
chapter: $(STAMP)
	@tools/chapter.sh "$(CH)" $(QUARTO_ARGS)

# The whole book at the smoke budget into _book-smoke/ (rendered on a copy: _freeze untouched).
report-smoke: $(STAMP)
	@tools/render-smoke.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest

# Headless Chromium on the rendered HTML book: offline math, no CDN, no overflow at 1280/390 px.
check-html: $(STAMP)
	$(PY) -c "import playwright" 2>/dev/null || $(PY) -m pip install --quiet "playwright>=1.40"
	$(PY) tools/check_html.py _book

# The hand-in bundle: dist/trustml-<version>.pdf and dist/trustml-<version>-source.zip.
zip: report
	@$(PY) tools/make_zip.py --pdf _book/trustml.pdf --out dist

clean-smoke:
	rm -rf results/smoke _book-smoke

# Every experiment the book uses, prerequisites first, loading what is cached (`python -m trustml
# all`: [k/N] per experiment, the time left by earlier runs, a table of times; resumable).
# BUDGET=smoke for the tiny budget.
results: $(STAMP)
	$(PY) -m trustml all $(if $(BUDGET),--budget $(BUDGET))

bench: $(STAMP)
	$(PY) -m trustml bench attacks
