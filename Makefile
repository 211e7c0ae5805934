# The two commands of the README's quickstart. Both set up .venv from scratch when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test docs clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/ganzoo run cyclegan --gen resnet9 --loss lsgan

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

docs: install
	$(PY) -m pip install -q -e '.[docs]'
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) build dist *.egg-info site
