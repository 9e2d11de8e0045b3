# seller-inbox: the two commands.
#   make run            the whole system on the embedded stack (Airflow UI; Ctrl-C stops)
#   make run ARGS=--once  headless: run the last 7 days, print the KPI table, exit
#   make test           the whole test suite (what CI runs)
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test bench install system-deps clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip check
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Debian packages the integration tests need (Dovecot for IMAP; headless Chromium and a CJK font
# for the browser test, tests/integration/test_ui_browser.py); idempotent.
system-deps:
	@command -v dovecot >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; }
	@command -v chromium >/dev/null 2>&1 && dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; }

run: install
	$(BIN)/seller-inbox demo $(ARGS)

# Two test processes (pytest-xdist), each whole test file in one of them, so a module's started
# servers are shared by its tests: the suite's whole-system runs mostly wait on Airflow and servers,
# and two of them side by side halve its time on a 2-core machine. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

test: install system-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS)

bench: install
	$(BIN)/python benchmarks/bench_dag_parse.py
	@for b in benchmarks/bench_*.py; do [ "$$b" = benchmarks/bench_dag_parse.py ] || $(BIN)/python $$b; done

clean:
	rm -rf .seller-inbox
