# Two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DB     ?= data/sop.duckdb
PORT   ?= 8501

.PHONY: run test demo lint bench chromium clean

$(VENV)/.run-deps: requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed (pandas 3)"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.test-deps: $(VENV)/.run-deps requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

## make run: set up, build the demo company if the database is missing, open the dashboard on localhost
run: $(VENV)/.run-deps
	$(PY) -m analytics demo --db $(DB) --if-missing
	SOP_DB=$(DB) $(VENV)/bin/streamlit run app.py --server.address localhost --server.port $(PORT) --browser.gatherUsageStats false

## make test: set up (venv + Debian chromium for the browser tests) and run the whole suite
test: $(VENV)/.test-deps chromium
	$(PY) -m pytest -q

chromium:
	@test -x /usr/bin/chromium || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

demo: $(VENV)/.run-deps
	$(PY) -m analytics demo --db $(DB)

lint: $(VENV)/.test-deps
	$(VENV)/bin/ruff check analytics pages app.py ui tests benchmarks

bench: $(VENV)/.test-deps
	$(PY) benchmarks/kpi_queries.py

clean:
	rm -rf $(VENV) .pytest_cache
