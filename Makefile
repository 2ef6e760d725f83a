# The two set-up commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app
PG_DIR ?= /tmp/residents-vote-pg
PG_PORT ?= 55432

RUN_DEBS := fonts-noto-cjk
TEST_DEBS := fonts-noto-cjk chromium zbar-tools poppler-utils postgresql

.PHONY: run test venv dev-deps sms-deps run-debs test-debs translations lint pytest bench clean \
	pg-start pg-stop serve

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(BIN)/.dev-installed: $(BIN)/.installed requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The SMS providers' SDKs (optional extras, for SMS_BACKEND=aliyun|tencent and their tests).
$(BIN)/.sms-installed: $(BIN)/.installed requirements-sms.txt
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-sms.txt
	touch $@

venv: $(BIN)/.installed
dev-deps: $(BIN)/.dev-installed
sms-deps: $(BIN)/.sms-installed

run-debs:
	@scripts/apt-ensure.sh $(RUN_DEBS)

test-debs:
	@scripts/apt-ensure.sh $(TEST_DEBS)

translations: $(BIN)/.installed
	@$(BIN)/pybabel compile -d translations -f >/dev/null

run: venv run-debs translations
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	@echo "Serving on http://127.0.0.1:5000 (Ctrl-C to stop)"
	$(BIN)/gunicorn -c gunicorn.conf.py -b 127.0.0.1:5000 'app:create_app()'

lint: dev-deps
	$(BIN)/ruff check .

# The whole suite on SQLite (browser and load tests included), then again on a
# throwaway PostgreSQL cluster (browser tests are not repeated there).
test: dev-deps sms-deps test-debs translations lint
	$(BIN)/python -m pytest -q -p no:cacheprovider
	scripts/pg-test.sh start $(PG_DIR) $(PG_PORT)
	TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$(PG_PORT)/postgres \
		$(BIN)/python -m pytest -q -p no:cacheprovider -m "not browser" ; \
		status=$$?; scripts/pg-test.sh stop $(PG_DIR) $(PG_PORT); exit $$status

pg-start:
	scripts/pg-test.sh start $(PG_DIR) $(PG_PORT)

pg-stop:
	scripts/pg-test.sh stop $(PG_DIR) $(PG_PORT)

bench: dev-deps test-debs translations
	scripts/bench.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
