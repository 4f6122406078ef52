"""Names of the trial and study user attributes the search writes (read back by the report and the CLI display).

The trial-level names are the vocabulary's (`lstmexp.metric_names`), under the names the search
code uses for them; the study-level ones live here.
"""

from __future__ import annotations

from lstmexp import metric_names as names

FAILURE_ATTR = names.FAILURE_REASON
WORKER_ATTR = names.WORKER
REPEAT_ATTR = names.REPEAT_OF
SKIPPED_ATTR = names.SKIPPED
LOST_ATTR = names.LOST
CONFIG_ATTR = names.CONFIG
REPRODUCE_ATTR = names.REPRODUCE
NOT_APPLIED_ATTR = names.NOT_APPLIED
CPU_ATTR = names.CPU_S

BUDGET_ATTR = "budget_stop"  # study attr: why a whole-study budget ended the search
REPRODUCE_BASE_ATTR = "reproduce_base"  # study attr: `lstmexp run SPEC [-o ...]` the search was started from
LR_COTUNED_ATTR = "lr_cotuned"  # study attr: train.lr is searched together with several batch sizes
