"""Names of the trial and study user attributes the search writes (read back by the report and the CLI display).

The trial-level names are the vocabulary's (`lstmexp.vocabulary.names`), under the names the search
code uses for them; the study-level ones live here.
"""

from __future__ import annotations

FAILURE_ATTR = "failure_reason"  # oom, diverged, infeasible: a failure that is data and counts
WORKER_ATTR = "worker"  # host:pid:process-start of the process training the trial
RUN_ATTR = "run"  # the search command (its id) that made the trial: its summary counts its own trials
REPEAT_ATTR = "repeat_of"  # the first trial of the same configuration
SKIPPED_ATTR = "skipped"  # not trained: the target was already claimed by other workers
LOST_ATTR = "lost"  # its worker died while training it
CONFIG_ATTR = "config"  # compact JSON of every searched value but the seed: equal key, same configuration
REPRODUCE_ATTR = "reproduce"  # the `lstmexp run` command that reproduces the trial's figures, seed included
NOT_APPLIED_ATTR = "not_applied"  # searched fields that did not apply to this trial, with the reason
CPU_ATTR = "cpu_s"  # CPU seconds this trial used (the study's CPU budget sums them)
BUDGET_ATTR = "budget_stop"  # study attr: why a whole-study budget ended the search
REPRODUCE_BASE_ATTR = "reproduce_base"  # study attr: `lstmexp run SPEC [-o ...]` the search was started from
LR_COTUNED_ATTR = "lr_cotuned"  # study attr: train.lr is searched together with several batch sizes
DESIGN_ATTR = "claims_design"  # study attr: a claims study's design, as `search.design.Design.to_attr` writes it
DESIGN_KEY_ATTR = "design_key"  # a claims study's setting (every value but the seed)
DESIGN_ARMS_ATTR = "design_arms"  # the arms of a claims study's design the setting belongs to
KEPT_ON_RETRY = (DESIGN_KEY_ATTR, DESIGN_ARMS_ATTR)  # what a lost trial's retry still is, not who ran it
