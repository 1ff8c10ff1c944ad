# Two commands do everything, set-up included:
#   make book   build the website into _build/html
#   make test   run the whole test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader calls alembic and jupyter from PATH: put the environment first.
RUN    := PATH="$(BIN):$$PATH"

.PHONY: book test release grade venv clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

book: $(STAMP)
	$(RUN) $(BIN)/jupyter-book build . -W --keep-going

test: $(STAMP)
	$(RUN) $(BIN)/python -m pytest

# Regenerate the student notebooks in notebooks/ from solutions/ (all, or A=<assignment>).
release: $(STAMP)
	$(RUN) $(BIN)/python scripts/release.py $(A)

clean:
	rm -rf _build $(VENV)
