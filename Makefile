# Everything a user runs. Each target sets up .venv first if needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
# numpy must be in place before vec-noise (a luxai-s2 dependency) builds against it.
NUMPY_PIN := $(shell grep -E '^numpy==' requirements.txt)
BUILD_PINS := $(shell grep -E '^(setuptools|wheel)==' requirements.txt)
VEC_NOISE_PIN := $(shell grep -E '^vec-noise==' requirements.txt)

.PHONY: setup test match bench eval ladder submission train lint clean

setup: $(STAMP)

$(STAMP): requirements.txt tools/patch_luxai_runner.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(NUMPY_PIN) $(BUILD_PINS)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation $(VEC_NOISE_PIN)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) tools/patch_luxai_runner.py
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

match: $(STAMP)
	$(PY) tools/match.py

bench: $(STAMP)
	$(PY) benchmarks/agent_turn.py

# e.g. make eval EVAL_ARGS="--opponent bot40 --configs kaggle --seeds 0-9"
EVAL_ARGS ?=
eval: $(STAMP)
	$(PY) train/evaluate.py $(EVAL_ARGS)

# Resumes: games already in docs/results/ladder.json are not replayed. e.g. make ladder LADDER_ARGS="--opponents kit"
LADDER_ARGS ?=
ladder: $(STAMP)
	$(PY) tools/ladder.py $(LADDER_ARGS)

submission: $(STAMP)
	bash build_submission.sh

train: $(STAMP)
	$(PY) train/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf dist replays/*.html replays/*.json .pytest_cache
