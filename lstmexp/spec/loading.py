"""Reading a spec: YAML file -> raw dict -> `key=value` overrides -> validated ExperimentSpec.

Every problem becomes one SpecError line naming the field and the fix, before any study is touched.
"""

from __future__ import annotations

import difflib
import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from lstmexp.bounds import Bound, bound_of, limit_for, outside
from lstmexp.errors import SpecError
from lstmexp.spec.experiment import ExperimentSpec
from lstmexp.spec.space import SIZE_NAMES, SpaceSpec
from lstmexp.vocabulary.choices import SEARCHED_PARAMS, SIZE_PATHS


class SpecLoader(yaml.SafeLoader):
    """Safe YAML that also reads `1e-3` as a number (YAML 1.1 wants `1.0e-3`, and users write `1e-3`),
    and refuses a key given twice in one mapping (PyYAML keeps the last, silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base` merges may be overridden by the keys beside them, as YAML intends
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {echo(key)} is given twice, at lines {first_line[key]} and {line}",
                    key_node.start_mark,
                )
            first_line[key] = line
        return super().construct_mapping(node, deep)


SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


# A spec is a few dozen values; aliases (`*a`) may repeat a node, but a document that expands to
# more than this (nested aliases: a "billion laughs") is refused before anything walks it.
MAX_SPEC_VALUES = 10_000
# A value echoed in an error message is cut to this many characters (plus its length).
MAX_ECHO_CHARS = 60


def parse_yaml(text: str) -> Any:
    # SpecLoader is a SafeLoader subclass that only adds a float resolver: no object construction.
    try:
        value = yaml.load(text, Loader=SpecLoader)  # noqa: S506
    except ValueError as exc:  # an integer of thousands of digits: Python refuses to convert it
        raise yaml.YAMLError(f"a number is too long ({str(exc).split(';')[0]})") from None
    expanded_size(value, {})
    return value


def expanded_size(value: Any, seen: dict[int, int | None]) -> int:
    """How many values `value` holds with every alias expanded; SpecError past MAX_SPEC_VALUES.

    Counted per distinct node (an alias is the same Python object as its anchor), so nested
    aliases cost one visit each instead of being expanded; a node inside itself is refused.
    """
    if not isinstance(value, dict | list):
        return 1
    key = id(value)
    if key in seen:
        known = seen[key]
        if known is None:
            raise yaml.YAMLError("an alias refers to a node that contains it (a recursive structure)")
        return known
    seen[key] = None
    children = [part for pair in value.items() for part in pair] if isinstance(value, dict) else value
    total = 1
    for child in children:
        total += expanded_size(child, seen)
        if total > MAX_SPEC_VALUES:
            raise yaml.YAMLError(f"the spec holds more than {MAX_SPEC_VALUES} values (aliases expanded)")
    seen[key] = total
    return total


def echo(value: object) -> str:
    """A value as shown in an error: its repr, cut to a short prefix and its length when long."""
    text = repr(value)
    return text if len(text) <= MAX_ECHO_CHARS else f"{text[:MAX_ECHO_CHARS]}... ({len(text)} characters)"


def load_spec(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentSpec:
    """Load a spec file (or the built-in defaults when `path` is None) and apply `key=value` overrides."""
    raw = read_spec_file(Path(path)) if path is not None else {}
    for override in overrides:
        apply_override(raw, override)
    return validate_spec(raw, str(path) if path is not None else "the built-in defaults", overrides)


def read_spec_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SpecError(f"spec file {path} does not exist; pass a YAML file such as experiments/default.yaml")
    if path.is_dir():
        raise SpecError(f"spec path {path} is a directory; pass a YAML file inside it")
    if not path.is_file():  # a FIFO or device would block the read forever
        raise SpecError(f"spec path {path} is not a regular file; pass a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read spec file {path}: {exc}; pass a readable UTF-8 YAML file") from exc
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc) or "invalid YAML"
        raise SpecError(f"spec file {path} is not valid YAML{line}: {problem}; fix the syntax") from exc
    if raw is None:
        raise SpecError(f"spec file {path} is empty; start from experiments/default.yaml")
    if not isinstance(raw, dict):
        raise SpecError(f"spec file {path} must be a YAML mapping (key: value), not {type(raw).__name__}")
    if raw and not any(looks_like_section(key) for key in raw):
        # Not a spec that has a typo but some other file (a password file reads as `root:...` keys):
        # name the file and what a spec holds, never its lines.
        raise SpecError(f"spec file {path} is not an lstmexp spec: none of its {len(raw)} top-level keys is "
                        f"one of {', '.join(SPEC_SECTIONS)}; start from experiments/default.yaml")
    return raw


# The top-level keys of ExperimentSpec (kept in step by a test).
SPEC_SECTIONS = ("data", "model", "search", "storage", "study", "train")


def looks_like_section(key: object) -> bool:
    """A spec section's name, or a typo of one (which deserves the did-you-mean error, not a refusal)."""
    import difflib

    return str(key) in SPEC_SECTIONS or bool(difflib.get_close_matches(str(key), SPEC_SECTIONS, n=1, cutoff=0.75))


def apply_override(raw: dict[str, Any], override: str) -> None:
    """Set `a.b.c=value` in the raw spec dict; the value is parsed as YAML (`3`, `1e-3`, `[1, 2]`)."""
    key, sep, text = override.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SpecError(f"override {echo(override)} is not key=value; write e.g. -o train.epochs=3")
    if not text.strip():  # `-o key=` is a value forgotten, not a null: a null is written out
        raise SpecError(f"override {echo(override)} has no value; give one, or write -o {key}=null to clear it")
    try:
        value = parse_yaml(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)  # PyYAML's own text spans several lines
        raise SpecError(f"override {echo(override)}: the value is not valid YAML ({echo(problem)}); quote it") from None
    node = raw
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            # A short form (e.g. `batch_size: 64`) being refined: expand it to its mapping form.
            if part in SEARCHED_PARAMS and parts[depth - 1 : depth] == ["space"]:
                child = {"values": child if isinstance(child, list) else [child]}
                node[part] = child
            else:
                raise SpecError(f"override {echo(override)}: {'.'.join(parts[: depth + 1])} is not a section")
        node = child
    node[parts[-1]] = value


def validate_spec(raw: dict[str, Any], source: str, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentSpec:
    try:
        return ExperimentSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(f"invalid spec ({source}): {describe_validation_error(exc, overrides)}") from None


def describe_validation_error(exc: ValidationError, overrides: list[str] | tuple[str, ...] = ()) -> str:
    """One line naming the first bad field and what is wrong with it."""
    first = exc.errors()[0]
    location = [str(part) for part in first["loc"]]
    field = shown_field(location)
    if first["type"] == "extra_forbidden":
        known = sorted(known_keys(location[:-1]))
        close = difflib.get_close_matches(location[-1], known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{field}: unknown key; {hint}known keys here: {', '.join(known)}"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    bound = bound_of(field)
    if first["type"] in ("less_than_equal", "less_than") and bound is not None:
        return f"{field}: {outside(bound, first['input'])}; {bound_fix(field, bound, first['input'], overrides)}{more}"
    message = first["msg"].removeprefix("Value error, ")
    bad = first.get("input")
    shown = "" if isinstance(bad, dict) or first["type"] == "missing" else f" (got {echo(bad)})"
    if not location:  # a whole-spec rule: its message names the fields itself
        return f"{message}{more}"
    return f"{field}: {message}{shown}{more}"


def shown_field(location: list[str]) -> str:
    """A field's path as the user writes it: searched fields without the internal `fields` level, the sizes
    by their short names."""
    if location[:3] == ["search", "space", "fields"] and len(location) > 3:
        location = ["search", "space", SIZE_NAMES.get(location[3], location[3]), *location[4:]]
    return ".".join(location) or "spec"


def bound_fix(field: str, bound: Bound, value: float, overrides: list[str] | tuple[str, ...]) -> str:
    """The fix for a value past its bound, in the form the user gave it: `-o key=...` or the spec file."""
    limit = limit_for(bound, value)
    if any(override.partition("=")[0].strip() == field for override in overrides):
        return f"use -o {field}={limit} or less"
    return f"set {field} to {limit} or less"


def known_keys(location: list[str]) -> set[str]:
    """The keys a spec section accepts, following `location` down from the top.

    Optional sections (`data.split.rows`) and the searched fields' mapping (`search.space.fields.<path>`)
    are followed to the section inside them; the search space also takes the sizes' short names.
    """
    model: type[BaseModel] = ExperimentSpec
    parts = iter(location)
    for part in parts:
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        if get_origin(annotation) is dict:
            next(parts, None)  # the mapping's key (a searched path): its value is the section
            annotation = get_args(annotation)[1]
        inner = section_in(annotation)
        if inner is None:
            return set()
        model = inner
    return set(model.model_fields) | (set(SIZE_PATHS) if model is SpaceSpec else set())


def section_in(annotation: Any) -> type[BaseModel] | None:
    """The spec section an annotation holds: itself, or the section inside `Section | None`."""
    candidates = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
