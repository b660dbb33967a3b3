# Two commands on a fresh Debian machine with only python3:
#   make demo   set up, count the source document's network, render its reports into reports/
#   make test   set up (test extras and the system tools the tests drive) and run every test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT    := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: demo test fuzz venv deps test-deps system-deps test-system-deps bench docs clean help

help:
	@echo "make demo   - set up .venv and render the worked example into reports/"
	@echo "make test   - set up .venv with test extras and run the test suite"
	@echo "make fuzz   - run the hostile-spec fuzz test with FUZZ_CASES cases (default 10000)"
	@echo "make bench  - run the benchmarks under bench/"
	@echo "make docs   - build the API reference (pdoc) into docs/api/"

# Debian ships venv separately (python3-venv); install it when venv cannot run.
$(PY):
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV); \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends python3-venv python3-pip \
	  && $(PYTHON) -m venv $(VENV); }
	@$(PY) -m pip install -q --upgrade pip

venv: $(PY)

$(VENV)/.deps: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[plot]'
	@touch $@

# The PyTorch cross-checks are optional: their tests skip when the CPU wheel cannot be had
# (and fail under CI=true). The framework cross-check's reference models need torchvision
# and transformers (the frameworks extra in pyproject.toml). The registry's torchvision is a
# CUDA build pinned to torch==2.13.0: --no-deps keeps pip from ever replacing the CPU torch
# with a CUDA one (several GB); tests/frameworks.py explains how it imports all the same.
# It is installed only once the CPU torch is in, for the same reason.
$(VENV)/.test-deps: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	@if $(PY) -m pip install -q 'torch==2.13.0' 2>/dev/null; then \
	  $(PY) -m pip install -q --no-deps 'torchvision==0.28.0' \
	  && $(PY) -m pip install -q 'transformers==5.24.0' 'onnx==1.23.2' 'keras==3.15.1' \
	  || echo "torchvision, transformers, onnx or keras not available here: the framework cross-check will skip"; \
	else echo "torch==2.13.0 not available here: the PyTorch cross-checks will skip"; fi
	@touch $@ $(VENV)/.deps

deps: $(VENV)/.deps
test-deps: $(VENV)/.test-deps

# WeasyPrint needs Pango and a font; missing ones come from Debian.
system-deps:
	@missing=""; \
	ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core fontconfig"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing; fi

# The tests compile LaTeX, drive Chromium and rasterise PDFs.
test-system-deps: system-deps
	@missing=""; \
	command -v pdflatex >/dev/null || missing="$$missing texlive-latex-base texlive-latex-recommended texlive-fonts-recommended"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing; fi

demo: deps system-deps
	$(PY) -m symparams count lenet
	$(PY) -m symparams count lenet --json -o reports/lenet.json
	$(PY) -m symparams report lenet --format all -o reports
	$(PY) -m symparams sweep lenet --vary CONV1.filters=4:64:4 --csv reports/lenet-sweep.csv \
	  --plot reports/lenet-sweep.svg

test: test-deps test-system-deps
	$(PY) -m pytest -q

# The fuzz test of tests/test_fuzz.py with many more cases than make test runs
# (FUZZ_SEED picks another seeded run).
FUZZ_CASES ?= 10000
fuzz: test-deps
	FUZZ_CASES=$(FUZZ_CASES) $(PY) -m pytest -q -s tests/test_fuzz.py

bench: deps
	$(PY) bench/bench_count.py
	$(PY) bench/bench_report.py
	$(PY) bench/bench_homework.py
	$(PY) bench/bench_solve.py
	$(PY) bench/bench_sweep.py
	$(PY) bench/bench_sequences.py
	$(PY) bench/bench_blocks.py
	$(PY) bench/bench_import.py

# The API reference: pdoc renders the docstrings of every module into static,
# offline HTML (no CDN, no math scripts). Subpackages bring their own modules.
API_DIR ?= docs/api
API_MODULES = $(PY) -c "import pkgutil, symparams; print(' '.join(m.name for m in \
  pkgutil.iter_modules(symparams.__path__, 'symparams.') if m.name != 'symparams.__main__'))"

$(VENV)/.docs-deps: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[plot,docs]'
	@touch $@

docs: $(VENV)/.docs-deps
	rm -rf $(API_DIR)
	$(PY) -m pdoc --docformat restructuredtext --no-math --no-mermaid -o $(API_DIR) \
	  --footer-text "symparams $$($(PY) -c 'import symparams; print(symparams.__version__)')" \
	  symparams $$($(API_MODULES))
	@echo "API reference: $(API_DIR)/index.html"

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
