"""The vocabulary of what a trial records: every figure's and trial attribute's name, listed once.

The trial record (`lstmexp.trial.record`) is built, stored and read back under these names, and the
report's tables and charts use them as column names; no other module spells one out. The names
carry their units (`_s` seconds, `_bytes`, `_per_s`, `_pct`, `_units` = the target's own units;
plain losses and errors are on scaled values). Standard library only: the report's read-only path
imports it without torch or Optuna.
"""

from __future__ import annotations

# ---- speed: steady-state throughput (warm-up excluded) and how it was measured ----
SAMPLES_PER_S = "samples_per_s"  # the speed probe's median over timed blocks
SAMPLES_PER_S_SPREAD = "samples_per_s_spread"  # inter-quartile range of the blocks / median
SAMPLES_PER_S_BLOCKS = "samples_per_s_blocks"
SAMPLES_PER_S_TRAIN = "samples_per_s_train"  # the epoch-level throughput of training itself
TIME_STEPS_PER_S = "time_steps_per_s"
TRAIN_S_PER_EPOCH = "train_s_per_epoch"
EVAL_S_PER_EPOCH = "eval_s_per_epoch"
ITERATIONS_PER_EPOCH = "iterations_per_epoch"
TRAIN_SAMPLES_PER_EPOCH = "train_samples_per_epoch"
WARMUP_ITERS = "warmup_iters"
SAMPLES_SEEN = "samples_seen"
FLOPS_PER_SAMPLE = "flops_per_sample"
ACHIEVED_GFLOPS = "achieved_gflops"
PEAK_GFLOPS = "peak_gflops"
HW_EFFICIENCY_PCT = "hw_efficiency_pct"
SAMPLES_PER_S_CLOCK = "samples_per_s_clock"  # which clock the figure came from (lstmexp.measure.clocks)
SAMPLES_PER_S_WALL = "samples_per_s_wall"  # the median wall-clock block
SAMPLES_PER_S_THREAD_CPU = "samples_per_s_thread_cpu"  # the training thread's CPU clock (one-thread trials)
CLOCKS_AGREE = "clocks_agree"
SAMPLES_PER_S_CV = "samples_per_s_cv"  # the figure's relative uncertainty, widened when the clocks disagree
RESCUED_FROM = "rescued_from"  # the machine's contention reason a clock rescued the figure from
TIME_TO_TARGET_S = "time_to_target_s"
EPOCHS_TO_TARGET = "epochs_to_target"

# ---- contention: whether the machine was the trial's own while it was timed ----
CONTENDED = "contended"
CONTENTION_REASON = "contention_reason"
CPU_SHARE = "cpu_share"
LOAD_AVG_1M = "load_avg_1m"
OTHER_CPU_FRAC = "other_cpu_frac"
STEAL_FRAC = "steal_frac"
MACHINE_CONTENDED = "machine_contended"  # the machine-wide rule (epoch timings are judged by it)
MACHINE_CONTENTION_REASON = "machine_contention_reason"

# ---- memory ----
PEAK_MEM_BYTES = "peak_mem_bytes"  # the tensor peak where there is one (CPU), else the device's reading
PEAK_MEM_RESERVED_BYTES = "peak_mem_reserved_bytes"
PEAK_MEM_METHOD = "peak_mem_method"
PROCESS_PEAK_BYTES = "process_peak_bytes"  # resident-set high-water mark (noisy)
PROCESS_PEAK_MISSING = "process_peak_missing"  # why there is no process peak
TENSOR_PEAK_BYTES = "tensor_peak_bytes"
TENSOR_PARAMS_BYTES = "tensor_params_bytes"
TENSOR_GRADS_BYTES = "tensor_grads_bytes"
TENSOR_OPTIMIZER_BYTES = "tensor_optimizer_bytes"
TENSOR_ACTIVATIONS_BYTES = "tensor_activations_bytes"
TENSOR_PEAK_MISSING = "tensor_peak_missing"
ACTIVATION_MEM_EST_BYTES = "activation_mem_est_bytes"
PARAM_COUNT = "param_count"

# ---- accuracy: held-out figures (val selects, test reports) ----
VAL_LOSS_BEST = "val_loss_best"
VAL_LOSS_FINAL = "val_loss_final"
TRAIN_LOSS_FINAL = "train_loss_final"
TEST_LOSS = "test_loss"
# Per split: `val_mse`, `test_mae_units`, ... (see split_figure).
SPLITS = ("val", "test")
MSE = "mse"
MAE = "mae"
RMSE = "rmse"
MSE_UNITS = "mse_units"
MAE_UNITS = "mae_units"
RMSE_UNITS = "rmse_units"
NAIVE_MSE = "naive_mse"
NAIVE_MSE_UNITS = "naive_mse_units"
SKILL = "skill"
ACCURACY = "accuracy"  # classification tasks only
SPLIT_ERRORS = (MSE, MAE, RMSE, MSE_UNITS, MAE_UNITS, RMSE_UNITS, NAIVE_MSE, NAIVE_MSE_UNITS, SKILL)
VAL_MSE = "val_mse"
TEST_MSE = "test_mse"
TEST_MAE_UNITS = "test_mae_units"
TEST_SKILL = "test_skill"
VAL_ACCURACY = "val_accuracy"
TEST_ACCURACY = "test_accuracy"

# ---- training curve and gradient health ----
EPOCHS_RUN = "epochs_run"
BEST_EPOCH = "best_epoch"
STOPPED_EARLY = "stopped_early"
BUDGET_REACHED = "budget_reached"
# The study's CPU budget ended this trial's training: a search candidate (it trained within the budget), left
# out of the claims' accuracy statements (it trained less than its configuration asks).
STUDY_BUDGET_CUT = "study_budget_cut"
PATIENCE_RAN_OUT = "patience_ran_out"  # early stopping on val loss ended training (train.patience)
GRAD_NORM_MEAN = "grad_norm_mean"
GRAD_NORM_MAX = "grad_norm_max"
NONFINITE_GRAD_FRAC = "nonfinite_grad_frac"
# Per-epoch lists are stored as `curve_<name>` (read apart from the scalar figures).
CURVE_PREFIX = "curve_"
TRAIN_LOSS = "train_loss"
VAL_LOSS = "val_loss"
CURVES = (TRAIN_LOSS, VAL_LOSS, GRAD_NORM_MEAN, GRAD_NORM_MAX)

# ---- how the data was fed (for grouping) and where the trial ran ----
STATEFUL = "stateful"
MODE = "mode"
HORIZON = "horizon"
NORMALIZATION = "normalization"
CHUNK = "chunk"  # model.chunk: the LSTM ran time_step/chunk steps (lstm_steps)
LSTM_STEPS = "lstm_steps"
CHANNELS = "channels"
HEAD = "head"
SKIP = "skip"  # model.skip: linear (the window mapped to the horizon, added to the LSTM's prediction) or none
LOOKBACK = "lookback"
TRAIN_TARGETS = "train_targets"  # the windows each split scores
VAL_TARGETS = "val_targets"
TEST_TARGETS = "test_targets"
DEVICE = "device"
TORCH_THREADS = "torch_threads"
THREADS_POLICY = "threads_policy"
WALL_S = "wall_s"
CPU_S = "cpu_s"  # CPU seconds the trial used (the study's CPU budget sums them)

# ---- repeats: with train.repeats > 1 these figures are means, with `_std` (ddof=1) and `_cv` beside ----
REPEATS = "repeats"
STD_SUFFIX = "_std"
CV_SUFFIX = "_cv"
REPEATED = (VAL_LOSS_BEST, TEST_MSE, TEST_MAE_UNITS, TEST_SKILL, SAMPLES_PER_S_TRAIN, TRAIN_S_PER_EPOCH,
            EVAL_S_PER_EPOCH, GRAD_NORM_MEAN, TIME_TO_TARGET_S)

# ---- the trial's identity and what happened to it ----
CONFIG = "config"  # compact JSON of every searched value but the seed: equal key, same configuration
REPRODUCE = "reproduce"  # the `lstmexp run` command that reproduces the trial's figures, seed included
TRAIN_SEED = "train_seed"
REPEAT_OF = "repeat_of"  # the first trial of the same configuration
NOT_APPLIED = "not_applied"  # searched fields that did not apply to this trial, with the reason
RUN = "run"  # the search command (its id) that made the trial: its summary counts its own trials
WORKER = "worker"  # host:pid:process-start of the process training the trial
FAILURE_REASON = "failure_reason"  # oom, diverged, infeasible: a failure that is data and counts
FAILURE_DETAIL = "failure_detail"
SKIPPED = "skipped"  # not trained: the target was already claimed by other workers
LOST = "lost"  # its worker died while training it

# ---- how the record is stored on an Optuna trial ----
RECORD = "lstmexp_record"  # the whole record as one JSON attribute
RECORD_SCHEMA = "schema"  # its version, inside the record
# The figures dashboards sort by, also stored as plain user attributes beside the record.
HEADLINE = (VAL_LOSS_BEST, SAMPLES_PER_S, PEAK_MEM_BYTES)


def split_figure(split: str, error: str) -> str:
    """`val_mse`, `test_mae_units`: one split's error figure."""
    return f"{split}_{error}"


def curve_key(name: str) -> str:
    """The stored name of a per-epoch list (`curve_val_loss`)."""
    return CURVE_PREFIX + name


def spread_keys(name: str) -> tuple[str, str]:
    """The standard deviation and coefficient of variation over repeats of a figure."""
    return name + STD_SUFFIX, name + CV_SUFFIX
