"""Where studies live: storage URLs and masking, storage files, server databases, the one door to
Optuna's internals, study listing, and writing files that are never someone else's."""
