# Two commands do everything, set-up included:
#   make book   build the website into _build/html
#   make test   run the whole test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader calls alembic and jupyter from PATH: put the environment first. Playwright drives
# Debian's chromium and must never download a browser of its own.
RUN    := PATH="$(BIN):$$PATH" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

.PHONY: book test release colab grade venv sandbox browser postgres repository clean

venv: $(STAMP)

# The grading sandbox needs bubblewrap (Debian package 'bubblewrap'); install it when we can.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  export DEBIAN_FRONTEND=noninteractive && (apt-get install -y -q bubblewrap >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1)); } || \
	  echo "WARNING: bubblewrap (bwrap) is missing and could not be installed: safe grading will refuse to run"

# The website's browser test needs headless Chromium (Debian package 'chromium'); install it when we can.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  export DEBIAN_FRONTEND=noninteractive && (apt-get install -y -q chromium >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)); } || \
	  echo "WARNING: chromium is missing and could not be installed: the website's browser test will fail"

# The grading tests run the gradebook on a real PostgreSQL server (Debian package 'postgresql'; the
# tests start their own server with initdb/pg_ctl): install it when we can.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  export DEBIAN_FRONTEND=noninteractive && (apt-get install -y -q postgresql >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q postgresql >/dev/null 2>&1)); } || \
	  echo "WARNING: PostgreSQL (initdb, pg_ctl) is missing and could not be installed: its grading test will fail"

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

book: $(STAMP)
	$(RUN) $(BIN)/jupyter-book build . -W --keep-going

# Two workers (pytest-xdist); tests that share a fixture stay on one worker (tests/conftest.py: xdist_scope).
test: $(STAMP) sandbox browser postgres
	$(RUN) $(BIN)/python -m pytest -n 2 --dist loadscope

# Regenerate the student notebooks in notebooks/ from solutions/ (all, or A=<assignment>).
release: $(STAMP)
	$(RUN) $(BIN)/python scripts/release.py $(A)

# Regenerate book/<chapter>.ipynb, the Colab copies of the chapter pages (after editing a page).
colab: $(STAMP)
	$(RUN) $(BIN)/python scripts/colab_pages.py

# Grade an assignment safely (sandboxed kernels, answers checked outside them): make grade A=ch01_rnn_basics
grade: $(STAMP) sandbox
	$(RUN) $(BIN)/python -m rnncourse.autograder grade $(A)

# Publish a copy: set the repository URL in _config.yml and copy it everywhere it is used.
#   make repository URL=https://github.com/<owner>/<name>   (without URL: re-copy the configured one)
repository: $(STAMP)
	$(RUN) $(BIN)/python scripts/set_repository.py $(URL)

clean:
	rm -rf _build $(VENV)
