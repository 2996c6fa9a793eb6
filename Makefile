# The course's commands. `make lab` for learners, `make test` for instructors;
# both create .venv and install the project (with its test extra) first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Extra arguments for `make lab`, e.g. LAB_ARGS="--port 8899 --no-browser".
LAB_ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL := --nbval --nbval-current-env \
         --nbval-sanitize-with tools/nbval_sanitize.cfg

.PHONY: lab test quick-test notebooks nav bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[test]"
	touch $(STAMP)

## Start JupyterLab on the course (127.0.0.1, token auth).
lab: $(STAMP)
	$(PY) -m jupyterlab --ip 127.0.0.1 --ServerApp.root_dir=notebooks \
	    $(ROOT_FLAG) $(LAB_ARGS)

## Every test: unit and widget tests, nbval on the stored notebooks,
## the full LeNet accuracy run and the JupyterLab browser test.
test: $(STAMP)
	COURSE_QUICK=1 $(PY) -m pytest tests notebooks $(NBVAL) -rfEs

## The same without the slow training and browser tests (minutes).
quick-test: $(STAMP)
	COURSE_QUICK=1 $(PY) -m pytest tests notebooks $(NBVAL) \
	    -m "not slow and not browser"

## Re-execute every notebook in place (quick mode, as CI compares them)
## and refresh the navigation cells.
notebooks: $(STAMP)
	COURSE_QUICK=1 $(PY) tools/notebooks.py execute

nav: $(STAMP)
	$(PY) tools/notebooks.py nav

bench: $(STAMP)
	$(PY) benchmarks/bench_corr2d.py
	$(PY) benchmarks/bench_trainer.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache
