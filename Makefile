# The two commands of the README's quickstart. Both set up .venv from scratch when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test docs clean

# pip prints its progress: the first install downloads PyTorch (several GB) and takes minutes.
# PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu make install uses PyTorch's CPU wheels instead.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@echo "Installing ganzoo and its dependencies into $(VENV) (PyTorch is several GB on the first install)"
	$(PY) -m pip install --progress-bar on -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/ganzoo run cyclegan --gen resnet9 --loss lsgan

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Rewrites the generated pages (component zoo, command line, API, recipe tables), then builds site/.
docs: install
	$(PY) -m pip install -q -e '.[docs]'
	$(PY) docs/generate.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) build dist *.egg-info site
