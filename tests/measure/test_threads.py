"""The thread policy: usable cores (affinity, cgroup quota, workers), the cap on requests, what a trial records."""

from __future__ import annotations

import pytest

import lstmexp.measure.threads as threads
from lstmexp.errors import SpecError
from lstmexp.measure import check_thread_request, thread_budget, thread_candidates, usable_cores
from lstmexp.spec import load_spec
from lstmexp.trial.run import run_trial
from tests.search_specs import sized

SMALL = ["data.rows=1200", "train.epochs=1", "train.device=cpu"]


@pytest.fixture
def workers_reset():
    yield threads.set_workers
    threads.set_workers(1)


@pytest.mark.parametrize(("text", "cores"), [("max 100000", None), ("150000 100000", 1.5), ("50000 100000", 0.5)])
def test_cgroup_v2_quota_is_read_in_cores(monkeypatch, tmp_path, text, cores):
    quota = tmp_path / "cpu.max"
    quota.write_text(text + "\n")
    monkeypatch.setattr(threads, "CGROUP_V2_MAX", quota)
    assert threads.cgroup_quota_cores() == cores


def test_the_quota_caps_the_usable_cores(monkeypatch):
    monkeypatch.setattr(threads, "affinity_cores", lambda: 8)
    monkeypatch.setattr(threads, "cgroup_quota_cores", lambda: 2.5)
    assert usable_cores() == 3  # a started core counts
    monkeypatch.setattr(threads, "cgroup_quota_cores", lambda: None)
    assert usable_cores() == 8
    monkeypatch.setattr(threads, "cgroup_quota_cores", lambda: 0.2)
    assert usable_cores() == 1


def test_workers_divide_the_usable_cores(monkeypatch, workers_reset):
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    workers_reset(3)
    assert thread_budget() == 2
    assert thread_candidates(None, ("shape-a",)) == ([1, 2], "probe: 1 vs 2")
    workers_reset(8)
    assert thread_candidates(None, ("shape-a",)) == ([1], "affinity/quota/workers")
    assert thread_candidates(5, ("shape-a",)) == ([5], "train.threads")  # the spec overrides


def test_a_probed_choice_is_cached_per_shape(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(threads, "_chosen", {})
    threads.remember_choice(("shape-b",), 4)
    assert thread_candidates(None, ("shape-b",)) == ([4], "probe: 1 vs 4 (cached)")
    assert thread_candidates(None, ("shape-c",)) == ([1, 4], "probe: 1 vs 4")


def test_a_thread_request_far_above_the_cores_is_a_one_line_error():
    cores = usable_cores()
    check_thread_request(4 * cores)  # a small multiple is allowed (oversubscription is the user's call)
    with pytest.raises(SpecError) as error:
        check_thread_request(20_000)
    message = str(error.value)
    assert "\n" not in message and "train.threads=20000" in message and f"at most {4 * cores}" in message


def test_the_cli_refuses_a_thread_request_above_the_cap_with_exit_2(cli, tiny_spec):
    result = cli("run", str(tiny_spec), "--batch-size", "16", "--time-step", "4", "-o", "train.threads=100")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "train.threads=100" in lines[0] and "core" in lines[0] and "Traceback" not in result.err


def test_every_trial_records_its_threads_and_policy():
    chosen = run_trial(sized(load_spec(None, SMALL), 32, 8, 16)).figures()
    assert 1 <= chosen["torch_threads"] <= thread_budget()
    assert chosen["threads_policy"].startswith(("probe: 1 vs", "affinity/quota/workers"))
    fixed = run_trial(sized(load_spec(None, [*SMALL, "train.threads=1"]), 32, 8, 16)).figures()
    assert fixed["torch_threads"] == 1 and fixed["threads_policy"] == "train.threads"


def test_the_study_environment_records_the_thread_policy_and_usable_cores(monkeypatch, workers_reset):
    from lstmexp.measure import collect_environment

    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    workers_reset(2)
    env = collect_environment()
    assert env["thread_budget"] == env["torch_threads"] == 2
    assert "1 or 2 threads" in str(env["thread_policy"])
    fixed = collect_environment(3)
    assert fixed["torch_threads"] == 3 and fixed["thread_policy"] == "train.threads=3"
