# Jalon — two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app
HOST ?= 127.0.0.1
PORT ?= 5000


.PHONY: run test install translations messages db seed lint bench system-deps browser-deps validator clean

$(BIN)/flask: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/flask

install: $(BIN)/flask translations

translations: $(BIN)/flask
	$(BIN)/pybabel compile -f -d app/translations > /dev/null

# After adding or changing UI text: extract, merge into the catalogues, then translate.
messages: $(BIN)/flask
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs '.* __pycache__ node_modules' -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete

db: install
	$(BIN)/flask db upgrade
	$(BIN)/flask referentials load referentials --apply
	$(BIN)/flask badge-templates load badge_templates --apply
	$(BIN)/flask demo seed --apply

run: db
	@echo "Jalon: http://$(HOST):$(PORT)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Debian packages the tests need; installed when root and absent, else named.
system-deps:
	@bash scripts/system-deps.sh chromium:chromium postgresql:/usr/lib/postgresql fonts-dejavu-core:/usr/share/fonts/truetype/dejavu poppler-utils:/usr/bin/pdftoppm

browser-deps:
	@test -f tests/browser/node_modules/axe-core/axe.min.js || npm ci --prefix tests/browser --no-audit --no-fund --silent

# The official Open Badges 2.0 validator (badgecheck) in its own venv, for tests/conformance.
validator:
	@PYTHON=$(PYTHON) bash scripts/validator-venv.sh

test: install system-deps browser-deps validator
	$(BIN)/ruff check .
	@echo "== Test suite on SQLite =="
	$(BIN)/python -m pytest -p no:cacheprovider -n 2
	@echo "== Database tests again on a throw-away PostgreSQL =="
	JALON_TEST_DATABASE=postgresql $(BIN)/python -m pytest -p no:cacheprovider -n 2 -m db

bench: install validator
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache
