"""Experiment specs: frozen models loaded from YAML, overridable with `key=value`, validated up front.

A spec says which data to use, what to search (by default the sizes train.batch_size, data.time_step
and model.hidden_size), how to train each trial and how to run the study. Validation happens here,
before any study is touched, so a typo never costs a half-written study. This package must not
import torch (the CLI stays fast).

Modules: base (shared section rules), space (searched fields), data (data section), sections (model,
train, search), experiment (the whole spec and its cross-section checks), loading (YAML, overrides,
error messages).
"""

from lstmexp.spec.base import STUDY_NAME_PATTERN
from lstmexp.spec.data import DataSpec, DateSplit, RowSplit, SplitSpec
from lstmexp.spec.experiment import ExperimentSpec
from lstmexp.spec.loading import (
    SpecLoader,
    apply_override,
    describe_validation_error,
    known_keys,
    load_spec,
    parse_yaml,
    read_spec_file,
    validate_spec,
)
from lstmexp.spec.sections import ConstraintSpec, ModelSpec, SearchSpec, TrainSpec
from lstmexp.spec.space import FieldSpace, SpaceSpec
from lstmexp.units import MEMORY_SIZE, MEMORY_UNITS, parse_memory
from lstmexp.vocabulary.choices import DEVICE_PATTERN, OBJECTIVES, SEARCHED_PARAMS

__all__ = [
    "DEVICE_PATTERN", "MEMORY_SIZE", "MEMORY_UNITS", "OBJECTIVES", "SEARCHED_PARAMS", "STUDY_NAME_PATTERN",
    "ConstraintSpec", "DataSpec", "DateSplit", "ExperimentSpec", "FieldSpace", "ModelSpec", "RowSplit",
    "SearchSpec", "SpaceSpec", "SpecLoader", "SplitSpec", "TrainSpec", "apply_override",
    "describe_validation_error", "known_keys", "load_spec", "parse_memory", "parse_yaml", "read_spec_file",
    "validate_spec",
]
