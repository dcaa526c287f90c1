# The few verbs a person uses. Each one creates or updates the virtual environment first.
PYTHON ?= python3
# pytest processes (pytest-xdist) for the unit tests and for the notebooks
WORKERS ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book pdf test unit js notebooks browser lab benchmark colab-cells clean

# (Re)install whenever the pinned requirements or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# KaTeX (math typeset at build time, its stylesheet and fonts served by the site), pinned
# in package-lock.json.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# The execution cache re-runs a notebook when its code changes; the library and the pinned
# requirements are code too, so a change to either empties the cache and every notebook
# runs again (no page shows numbers the library no longer produces). Sphinx's saved
# doctrees go too: Sphinx reads again only the sources it has no doctree for.
CODE_HASH = $(shell cat requirements.txt pyproject.toml $$(find lib -name '*.py' | sort) | sha256sum | cut -c1-16)
CACHE := _build/.jupyter_cache

define fresh_cache
	@if [ "$$(cat $(CACHE)/code-hash 2>/dev/null)" != "$(CODE_HASH)" ]; then \
		rm -rf $(CACHE) _build/.doctrees; mkdir -p $(CACHE); \
		echo $(CODE_HASH) > $(CACHE)/code-hash; \
		echo "library or requirements changed: every notebook runs again"; fi
endef

## book: execute every notebook (those not in the execution cache) and build the HTML book
##       into _build/html (warnings are errors)
book: $(STAMP) $(NODE_STAMP)
	$(fresh_cache)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@if [ -x /usr/bin/chromium ]; then $(BIN)/python tools/book_pdf.py; \
	else echo "no PDF of the book: Debian's chromium is not installed"; fi

## pdf: print the built book (make book) to _build/html/rectified.pdf in Chromium
pdf: $(STAMP)
	$(BIN)/python tools/book_pdf.py

## test: unit tests with coverage (fails under 90%); every notebook under nbval, whose
##       executions then make the warnings-as-errors build (each notebook runs once); then
##       every built page in headless Chromium
test:
	$(MAKE) -j2 --output-sync=target unit js
	$(MAKE) notebooks
	$(MAKE) book
	$(MAKE) browser

unit: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/browser -n $(WORKERS) \
		--cov=rectified --cov-report=term --cov-fail-under=90

## js: the live playground's JavaScript under Node's test runner (network, gradients,
##     data, state text); tests/test_playground_js.py (in unit) checks it against the library
js: $(NODE_STAMP)
	npm test --silent

## notebooks: execute every notebook under nbval, WORKERS at a time; each one that passes
##            goes into the build's execution cache (tools/execution_cache.py), so that
##            `make book` shows those outputs instead of running it again
notebooks: $(STAMP)
	$(fresh_cache)
	PYTHONPATH=tools $(BIN)/python -m pytest --nbval-lax --nbval-cell-timeout=300 book \
		-p no:cacheprovider -p execution_cache --execution-cache=$(CACHE) \
		-n $(WORKERS) --dist loadfile

## browser: open every page of the built book (make book) in Debian's Chromium
browser: $(STAMP)
	$(BIN)/python -m pytest tests/browser -p no:cacheprovider

## lab: open the notebooks in JupyterLab
lab: $(STAMP)
	$(BIN)/jupyter lab book

## benchmark: execute each notebook and print wall time and peak memory; then the live
##            playground's training steps and frames per second in headless Chromium
benchmark: $(STAMP)
	$(BIN)/python tools/benchmark_notebooks.py book
	$(BIN)/python tools/benchmark_playground.py

## colab-cells: refresh each notebook's Colab set-up cell from repository.url in _config.yml
colab-cells: $(STAMP)
	$(BIN)/python tools/colab_cells.py

clean:
	rm -rf _build .pytest_cache .coverage htmlcov
