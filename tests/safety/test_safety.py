"""Secrets and safety: masked passwords, safe YAML, no unpickling, determinism on CPU."""

from __future__ import annotations

import re
from pathlib import Path

import optuna
import pytest

from lstmexp.search import run_search
from lstmexp.spec import load_spec
from lstmexp.storage.urls import mask_url
from lstmexp.trial.record import trial_figures
from tests.conftest import needs_postgres

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://bob:s3cr%40t@db.example:5432/x", "postgresql://bob:***@db.example:5432/x"),
        ("postgresql+psycopg2://bob:pw@host/x", "postgresql+psycopg2://bob:***@host/x"),
        ("mysql://root:@localhost/db", "mysql://root:***@localhost/db"),
        ("postgresql://bob@host/x", "postgresql://bob@host/x"),
        ("sqlite:///results/lstmexp.db", "sqlite:///results/lstmexp.db"),
        ("see postgresql://a:b@h/x and mysql://c:d@h/y", "see postgresql://a:***@h/x and mysql://c:***@h/y"),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked


def test_spec_yaml_is_loaded_safely(tmp_path):
    from lstmexp.errors import SpecError

    marker = tmp_path / "pwned"
    spec = tmp_path / "evil.yaml"
    spec.write_text(f"study: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(SpecError, match="is not valid YAML"):
        load_spec(spec)
    assert not marker.exists()


def test_nothing_unpickles_untrusted_data():
    """Every torch.load in the package passes weights_only=True; no pickle.load anywhere."""
    offenders = []
    for path in (REPO / "lstmexp").rglob("*.py"):
        text = path.read_text()
        for match in re.finditer(r"torch\.load\(([^)]*)\)", text):
            if "weights_only=True" not in match.group(1):
                offenders.append(f"{path.name}: {match.group(0)}")
        if re.search(r"\bpickle\.loads?\(", text):
            offenders.append(f"{path.name}: pickle.load")
    assert not offenders


def test_same_spec_and_seed_give_the_same_trials_on_cpu(tmp_path, tiny_spec):
    spec = load_spec(tiny_spec, ["search.sampler=tpe", "search.trials=3"])
    studies = []
    for name in ("a", "b"):
        run_search(spec, f"sqlite:///{tmp_path / name}.db")
        studies.append(optuna.load_study(study_name=spec.study, storage=f"sqlite:///{tmp_path / name}.db"))
    first, second = (s.get_trials(deepcopy=False) for s in studies)
    assert [t.params for t in first] == [t.params for t in second]
    for a, b in zip(first, second, strict=True):
        assert a.state == b.state
        loss_a, loss_b = (trial_figures(t.user_attrs)["val_loss_best"] for t in (a, b))
        assert loss_a == pytest.approx(loss_b, abs=1e-6)


@pytest.mark.postgres
@needs_postgres()
def test_a_password_never_appears_in_progress_reports_or_errors(cli, tiny_spec, workdir, fresh_postgres):
    password = "Sup3rS3cret"
    url = fresh_postgres.replace("postgres@", f"postgres:{password}@")  # trust auth: the password is ignored
    study = "secret"
    outputs = [cli("search", str(tiny_spec), "--storage", url, "--study", study, "--trials", "1")]
    outputs += [cli("report", "--storage", url, "--study", study, "--format", fmt)
                for fmt in ("table", "markdown", "csv", "json")]
    outputs.append(cli("--debug", "report", "--storage", url, "--study", "no-such-study"))
    for result in outputs[:-1]:
        assert result.code == 0, result.err
    assert outputs[-1].code == 2 and "Traceback" in outputs[-1].err
    for result in outputs:
        assert password not in result.out + result.err
    assert "postgres:***@127.0.0.1" in outputs[0].err
