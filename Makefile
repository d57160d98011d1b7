# Two commands set everything up on a fresh machine with Python 3.11:
#   make run    install, then serve the bot on its embedded defaults (SQLite, bundled sample day)
#   make test   install, then run the whole test suite (what .ci/run runs)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install run test bench browser clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The browser tests drive Debian's Chromium (and a Chinese font for the screenshots); installed when
# we are root and they are missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium not installed: browser tests will be skipped"; }
	@fc-list :lang=zh 2>/dev/null | grep -q . || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null \
	  || echo "no Chinese font: the browser tests' screenshots will show boxes"; }

run: install
	$(BIN)/archive-bot serve

test: install browser
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/chattiness.py --quiet
	$(BIN)/python bench/answer.py
	$(BIN)/python bench/encode.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/erasure_check.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
