# lstmexp: every target works from a fresh clone with nothing installed (it installs what it needs).
#
# torch is installed first, through TORCH_SPEC, only when it is not importable yet: a plain `torch`
# requirement can pull a multi-GB CUDA build. The default is the version lstmexp is tested with;
# choose yours with e.g. `make install TORCH_SPEC=torch` or pre-install torch in .venv.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
PIP := $(BIN)/python -m pip
# Two installs: what lstmexp needs to run (search, report, experiments), then the dev tools on top
# (test, lint). Both take their versions from constraints.txt, the set CI tested.
STAMP := $(VENV)/.lstmexp-installed
DEV_STAMP := $(VENV)/.lstmexp-dev-installed
CONSTRAINTS := constraints.txt
PYTEST_ARGS ?=
# The suite runs in one pytest process per core (pytest-xdist): most of its time is waiting on
# subprocesses and storages, not CPU. Whole files go to one process each (--dist loadfile), so a
# module's shared fixture (a claims study, say) runs once. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
REPORT_ARGS ?=

.PHONY: install install-dev pins search claims report test smoke lint bench clean \
	exp-batch-sweep exp-batch-lr exp-time-step-sweep exp-stateful exp-adding exp-classify exp-etth1-s96 exp-etth1-m24 exp-time-step-chunks \
	exp-ett-univariate exp-ett-multivariate exp-ett-table

install: $(STAMP)

install-dev: $(DEV_STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c "import torch" 2>/dev/null || $(PIP) install --quiet "$(TORCH_SPEC)"
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	@touch $(DEV_STAMP)

# Move the pins: a throwaway environment gets the newest versions pyproject.toml allows, and its
# `pip freeze` (without torch, which TORCH_SPEC chooses, and lstmexp itself) becomes constraints.txt.
# Then run `make test` (it reinstalls from the new pins) and commit constraints.txt if it passes.
PINS_VENV ?= .venv-pins
pins:
	rm -rf $(PINS_VENV)
	$(PYTHON) -m venv $(PINS_VENV)
	$(PINS_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)"
	$(PINS_VENV)/bin/python -m pip install --quiet --upgrade -e ".[dev]"
	{ sed -n '/^# /p' $(CONSTRAINTS); $(PINS_VENV)/bin/python -m pip freeze --exclude-editable | grep -v '^torch=='; } \
		> $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf $(PINS_VENV)

# The main job: the default experiment on the built-in dataset, its report, then the claims answered (C1..C14).
search: install
	$(BIN)/lstmexp search experiments/default.yaml
	$(BIN)/lstmexp report --study default
	$(BIN)/lstmexp claims

# Every claim C1..C14 answered on one designed experiment (the built-in data unless SPEC/-o say otherwise).
CLAIMS_ARGS ?=
claims: install
	$(BIN)/lstmexp claims $(CLAIMS_ARGS)

report: install
	$(BIN)/lstmexp report $(REPORT_ARGS)

test: install-dev
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# A tiny search plus its report, in a storage of its own (under a minute on 2 CPU cores).
smoke: install
	rm -f results/smoke.db
	$(BIN)/lstmexp search experiments/smoke.yaml --storage sqlite:///results/smoke.db
	$(BIN)/lstmexp report --study smoke --storage sqlite:///results/smoke.db --format markdown

# The documents' experiments (README "Experiments"): one target each, storage under results/.
# Each search resumes where it stopped; delete its results/*.db to start over.
exp-batch-sweep: install
	$(BIN)/lstmexp search experiments/batch_sweep.yaml
	$(BIN)/lstmexp report --study batch_sweep --storage sqlite:///results/experiments.db

# C5-C9 with lr co-tuned: batch sizes x learning rates, so each batch size is judged at its best lr too.
exp-batch-lr: install
	$(BIN)/lstmexp search experiments/batch_lr.yaml
	$(BIN)/lstmexp report --study batch_lr --storage sqlite:///results/experiments.db

exp-time-step-sweep: install
	$(BIN)/lstmexp search experiments/time_step_sweep.yaml
	$(BIN)/lstmexp report --study time_step_sweep --storage sqlite:///results/experiments.db

# C14: one configuration, stateful and stateless, as two studies side by side in one storage.
exp-stateful: install
	$(BIN)/lstmexp search experiments/stateful.yaml
	$(BIN)/lstmexp search experiments/stateful.yaml --study stateless -o train.stateful=false
	$(BIN)/lstmexp report --study stateful --storage sqlite:///results/experiments.db
	$(BIN)/lstmexp report --study stateless --storage sqlite:///results/experiments.db

exp-adding: install
	$(BIN)/lstmexp search experiments/adding.yaml
	$(BIN)/lstmexp report --study adding --storage sqlite:///results/experiments.db

exp-classify: install
	$(BIN)/lstmexp search experiments/classify.yaml
	$(BIN)/lstmexp report --study classify --storage sqlite:///results/experiments.db

exp-etth1-s96: install
	$(BIN)/lstmexp search experiments/etth1_s96.yaml
	$(BIN)/lstmexp report --study etth1_s96 --storage sqlite:///results/etth1.db

# C10-C12 with chunks: per-step and chunked LSTMs over the same 96-720 hour look-backs (ETTh1, S, horizon 96).
exp-time-step-chunks: install
	$(BIN)/lstmexp search experiments/time_step_chunks.yaml
	$(BIN)/lstmexp report --study time_step_chunks --storage sqlite:///results/etth1.db

exp-etth1-m24: install
	$(BIN)/lstmexp search experiments/etth1_m24.yaml
	$(BIN)/lstmexp report --study etth1_m24 --storage sqlite:///results/etth1.db

# The published ETTh1 tables (horizons 96-720), univariate (mode S) and multivariate (mode M): each horizon a
# study stopped by its CPU budget (search.max_cpu_minutes), then the test MSE/MAE of the val-selected trial
# beside the published figures. exp-ett-table runs both. Another ETT hourly series (same columns and split; its
# rows are shown without ETTh1's published figures):
#   make exp-ett-table ETT_DATA=path/to/ETTh2.csv ETT_DB=results/etth2.db
ETT_HORIZONS ?= 96 192 336 720
ETT_DATA ?= ../shared/data/ETTh1.csv
ETT_DB ?= results/ett.db
exp-ett-univariate: install
	@for h in $(ETT_HORIZONS); do \
	  $(BIN)/lstmexp search experiments/ett_univariate.yaml -o data.path=$(ETT_DATA) -o data.horizon=$$h \
	    --study ett_s_$$h --storage sqlite:///$(ETT_DB) || exit 1; done
	$(BIN)/python experiments/ett_table.py --mode S --storage sqlite:///$(ETT_DB) --horizons $(ETT_HORIZONS)

exp-ett-multivariate: install
	@for h in $(ETT_HORIZONS); do \
	  $(BIN)/lstmexp search experiments/ett_multivariate.yaml -o data.path=$(ETT_DATA) -o data.horizon=$$h \
	    --study ett_m_$$h --storage sqlite:///$(ETT_DB) || exit 1; done
	$(BIN)/python experiments/ett_table.py --mode M --storage sqlite:///$(ETT_DB) --horizons $(ETT_HORIZONS)

exp-ett-table: exp-ett-univariate exp-ett-multivariate

lint: install-dev
	$(BIN)/ruff check lstmexp tests benchmarks
	$(BIN)/mypy

bench: install
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(PINS_VENV) results/*.db results/*.db-journal results/*.log .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
