"""Datasets, chronological splits, scaling and index-based sliding windows.

Nothing here knows about Optuna: a `Series` is plain tensors on a device plus the scaler that maps
predictions back to the data's own units.
"""

from lstmexp.data.series import Scaler, Series, count_samples, count_windows
from lstmexp.data.sources import BUILTIN_DATASETS, load_frame, load_series

__all__ = [
    "BUILTIN_DATASETS",
    "Scaler",
    "Series",
    "count_samples",
    "count_windows",
    "load_frame",
    "load_series",
]
