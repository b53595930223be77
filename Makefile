# Two commands do everything on a fresh machine: `make report` and `make test`.
# Both create .venv and install torch==2.13.0 first (before anything that depends on it,
# so pip does not pull a CUDA build), then this package with its report and dev extras.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.trustml-installed
export TRUSTML_DATA ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),data)

.PHONY: report report-smoke test lint venv clean-smoke bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e '.[report,dev]'
	# torchattacks (reference attacks for the cross-check test) needs no torchvision: --no-deps
	$(PY) -m pip install --quiet --no-deps "torchattacks==3.5.1"
	touch $(STAMP)

report: $(STAMP)
	@if command -v quarto >/dev/null 2>&1; then \
		QUARTO_PYTHON=$(abspath $(PY)) PATH="$(abspath $(VENV))/bin:$$PATH" quarto render && \
		echo "$(abspath _book/trustml.pdf)"; \
	else \
		echo "quarto not found: building with trustml's executor and pandoc -> Typst" >&2; \
		$(PY) -m trustml.report pdf; \
	fi

report-smoke: $(STAMP)
	$(PY) -m trustml.report pdf --profile smoke

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest

clean-smoke:
	rm -rf results/smoke _book-smoke

bench: $(STAMP)
	$(PY) -m trustml bench attacks
