"""Names of the trial user attributes the search writes (read back by the report and the CLI display)."""

from __future__ import annotations

FAILURE_ATTR = "failure_reason"  # oom, diverged, infeasible: a failure that is data and counts
WORKER_ATTR = "worker"  # host:pid:process-start of the process training the trial
REPEAT_ATTR = "repeat_of"  # the first trial of the same configuration
SKIPPED_ATTR = "skipped"  # not trained: the target was already claimed by other workers
LOST_ATTR = "lost"  # its worker died while training it
