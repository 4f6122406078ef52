"""The package's shape, checked: the limits that keep lstmexp easy to change.

- every module names its one job in the first line of its docstring, and no function is over 50
  lines in `lstmexp/` (cohesion decides a module's size, not a line count);
- private Optuna names (`optuna._x`, `obj._storage`, `trial._trial_id`, raw SQL on Optuna's tables,
  replacing a study method) are used only in `lstmexp/storage/optuna_compat.py`;
- no environment variable read as a test hook in the package;
- no import cycle between lstmexp's modules, type-only imports included, and every import runs down
  the stages (STAGES);
- no module outside `lstmexp/vocabulary/` spells a figure or attribute name as a string literal;
- `import lstmexp.cli.main` loads neither torch, optuna nor pandas (so `--help` stays instant).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lstmexp"
COMPAT_MODULE = PACKAGE / "storage" / "optuna_compat.py"
MAX_FUNCTION_LINES = 50


def package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_the_package_has_modules_to_check() -> None:
    assert len(package_files()) > 20


def test_the_top_level_holds_only_a_handful_of_shared_modules() -> None:
    """The stages are packages (cli, data, spec, training, trial, search, storage, measure, report)."""
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= 6, top


@pytest.mark.parametrize("path", package_files(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_each_module_names_its_job_and_functions_stay_short(path: Path) -> None:
    tree = ast.parse(path.read_text())
    docstring = ast.get_docstring(tree)
    assert docstring, f"{path.name} has no docstring naming its job"
    first = docstring.splitlines()[0]
    assert first.strip() and len(first) <= 120, f"{path.name}: its docstring's first line must name its job"
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{path.name}:{node.lineno} {node.name} has {length} lines"


PRIVATE_OPTUNA = [
    re.compile(r"\bfrom optuna(\.\w+)*\._\w+"),  # from optuna.storages._rdb import ...
    re.compile(r"\bimport optuna(\.\w+)*\._\w+"),
    re.compile(r"\boptuna(\.\w+)*\._[a-z]\w*"),  # optuna.storages._cached_storage...
    re.compile(r"\._storage\b"),
    re.compile(r"\._trial_id\b"),
    re.compile(r"\.get_trials\s*="),  # patching a study method
    re.compile(r"\b(trial_params|trial_values|trial_user_attributes|trial_intermediate_values)\b"),
    re.compile(r"optuna\.storages\._"),
]


@pytest.mark.parametrize("path", [p for p in package_files() if p != COMPAT_MODULE], ids=lambda p: p.name)
def test_private_optuna_names_only_in_the_compat_module(path: Path) -> None:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        code = line.split("#", 1)[0]
        for pattern in PRIVATE_OPTUNA:
            assert not pattern.search(code), f"{path.name}:{number} uses an Optuna internal: {line.strip()}"


def test_the_compat_module_exists() -> None:
    assert COMPAT_MODULE.is_file()


@pytest.mark.parametrize("path", package_files(), ids=lambda p: p.name)
def test_no_environment_test_hooks(path: Path) -> None:
    source = path.read_text()
    assert "LSTMEXP_TEST" not in source
    assert not re.search(r"environ(\.get)?\W+['\"]\w*TEST", source)


def imports_of(path: Path) -> set[str]:
    """lstmexp modules `path` imports, lazy (function-level) and type-only (`if TYPE_CHECKING:`) imports
    included: a lazy cycle is still a cycle, and a type one is two modules that each need the other's words."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    own = module_name(path)
    base = own if path.name == "__init__.py" else own.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("lstmexp"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.split(".")[: len(base.split(".")) - node.level + 1]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("lstmexp"):
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def test_no_import_cycles() -> None:
    modules = {module_name(p): p for p in package_files()}
    graph = {name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()}
    for name in graph:  # a package's submodule importing its own package's __init__ is not a cycle
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        assert node not in visiting, "import cycle: " + " -> ".join([*visiting[visiting.index(node):], node])
        visiting.append(node)
        for child in sorted(graph[node]):
            visit(child)
        visiting.pop()
        done.add(node)

    for name in sorted(graph):
        visit(name)


# The stages from the bottom up: a module imports only from its own stage or one below it (lazy and
# type-only imports included). The report is a library of reading and ranking a study, below the
# search, which keeps the weights of the configurations the report will recommend (one best).
STAGES = (
    ("vocabulary",),
    ("errors", "units", "text", "bounds", "interrupt"),  # the shared modules at the top of the package
    ("spec",), ("storage",), ("data",), ("measure",), ("training",), ("trial",), ("report",), ("search",),
    ("cli",), ("__main__",),
)
STAGE_OF = {part: rank for rank, names in enumerate(STAGES) for part in names}


def stage_of(module: str) -> int:
    """The stage of `lstmexp.<part>...`; the package root (its version) sits below every stage."""
    parts = module.split(".")
    return -1 if len(parts) == 1 or parts[1] == "__version__" else STAGE_OF[parts[1]]


def test_every_stage_is_listed() -> None:
    listed = {path.relative_to(PACKAGE).parts[0].removesuffix(".py") for path in package_files()} - {"__init__"}
    assert listed == set(STAGE_OF)


@pytest.mark.parametrize("path", package_files(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_run_down_the_stages_only(path: Path) -> None:
    own = module_name(path)
    upward = sorted(m for m in imports_of(path) if stage_of(m) > stage_of(own))
    assert not upward, f"{own} imports from a later stage: {upward}"


def figure_names() -> dict[str, str]:
    """Value -> constant of every compound figure and attribute name (`samples_per_s`, `budget_stop`).

    One-word names (`contended`, `skill`) are also plain words of captions and labels, and the spec's
    field names (`chunk`, `repeats`) are the spec's own words: a scan cannot tell them from prose."""
    from pydantic import BaseModel

    from lstmexp.spec import ExperimentSpec
    from lstmexp.vocabulary import attrs, names

    def fields(model: type[BaseModel]) -> set[str]:
        found = set(model.model_fields)
        for field in model.model_fields.values():
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                found |= fields(field.annotation)
        return found

    spec_words = fields(ExperimentSpec)
    return {value: constant for module in (attrs, names) for constant, value in vars(module).items()
            if constant.isupper() and isinstance(value, str) and "_" in value.strip("_") and value not in spec_words}


def spelled_strings(tree: ast.AST) -> list[ast.Constant]:
    """String constants that are not docstrings, parts of f-strings or the names of `__all__`."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            skipped.add(id(first.value))
        if isinstance(node, ast.JoinedStr):
            skipped.update(id(value) for value in node.values)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
            skipped.update(id(inner) for inner in ast.walk(node.value))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skipped]


SCANNED_FILES = [p for p in package_files() if "vocabulary" not in p.relative_to(PACKAGE).parts]


@pytest.mark.parametrize("path", SCANNED_FILES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_figure_names_come_from_the_vocabulary(path: Path) -> None:
    names = figure_names()
    spelled = sorted({f"{node.value!r} (line {node.lineno}; use {names[node.value]})"
                      for node in spelled_strings(ast.parse(path.read_text())) if node.value in names})
    assert not spelled, f"{path.name} spells names of lstmexp.vocabulary: {spelled}"


def test_the_vocabulary_names_the_headline_figures() -> None:
    assert {"samples_per_s", "peak_mem_bytes", "val_loss_best", "budget_stop"} <= set(figure_names())


def test_cli_import_loads_no_heavy_library() -> None:
    code = (
        "import sys, lstmexp.cli.main; "
        "heavy = [m for m in ('torch', 'optuna', 'pandas', 'pydantic') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
