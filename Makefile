# Campusflow: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000
DEV    := CAMPUSFLOW_ENV=development CAMPUSFLOW_DOMAIN=localhost:$(PORT)

.PHONY: install run run-stripe stripe-local test lint db-upgrade seed clean bench bench-quick bench-tools soak \
	translations translations-update

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

db-upgrade: $(STAMP)
	mkdir -p instance
	$(DEV) $(BIN)/flask --app wsgi db upgrade

seed: db-upgrade translations
	$(DEV) $(BIN)/flask --app wsgi seed-demo

run: seed translations
	@echo "Serving http://localhost:$(PORT)  (campus sites: http://<slug>.localhost:$(PORT), HQ: http://hq.localhost:$(PORT), partners: http://partners.localhost:$(PORT))"
	$(DEV) $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

# Card payments by hand: `make stripe-local` in one terminal, `make run-stripe` in another.
STRIPE_LOCAL := STRIPE_API_KEY=sk_test_local STRIPE_PUBLISHABLE_KEY=pk_test_local \
	STRIPE_WEBHOOK_SECRET=whsec_local STRIPE_API_BASE=http://127.0.0.1:8420

stripe-local: $(STAMP)
	STRIPE_WEBHOOK_SECRET=whsec_local $(BIN)/python -m tests.support.run_localstripe 8420 \
		http://localhost:$(PORT)

run-stripe: seed
	$(STRIPE_LOCAL) $(DEV) $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

test: $(STAMP) translations
	$(BIN)/python -m pytest

# Languages (core/i18n.py). The app reads translations/<lang>/LC_MESSAGES/messages.mo, compiled
# from the committed messages.po (build output, not committed; fuzzy entries are left out).
# After adding or changing strings in code or templates: `make translations-update` extracts
# translations/messages.pot and merges it into every messages.po (new strings come empty, no
# fuzzy guesses); translate them, then `make translations` (run, seed and test compile first).
translations: $(STAMP)
	$(BIN)/pybabel compile --directory translations --statistics

translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --add-location=file --sort-output \
		-o translations/messages.pot .
	$(BIN)/pybabel update --input-file translations/messages.pot --output-dir translations \
		--width 100 --no-fuzzy-matching

# Performance against DESIGN.md's targets (throwaway PostgreSQL, gunicorn, wrk, nginx, Redis on
# 127.0.0.1): prints a table and writes bench/results.json. BENCH_ROWS=10000000 adds 10 M entries.
bench-tools:
	bash bench/tools.sh

bench: $(STAMP) bench-tools
	$(BIN)/python -m bench.run

bench-quick: $(STAMP) bench-tools
	$(BIN)/python -m bench.run --quick --output bench/results-quick.json

# Resilience under load: 64 connections against gunicorn (4 workers) and a throwaway PostgreSQL on
# 127.0.0.1, a worker killed, PostgreSQL restarted, 1,000 webhooks; about 3 minutes; exits 1 if a
# check fails.
soak: $(STAMP) bench-tools
	$(BIN)/python -m bench.soak

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance/campusflow.db .pytest_cache .ruff_cache node_modules tests/browser/screenshots

# The browser tests' tools (tests/browser): Debian's Chromium at /usr/bin/chromium, and axe-core
# from the npm registry as package-lock.json pins it (node_modules/, not committed).
.PHONY: browser-deps
browser-deps:
	@test -x /usr/bin/chromium || { echo "Chromium is missing: apt-get install chromium"; exit 1; }
	npm ci --no-audit --no-fund
