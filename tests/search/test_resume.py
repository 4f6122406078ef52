"""lstmexp.search.resume: a study resumes to its target, and refuses a spec whose trials would not compare."""

from __future__ import annotations

import pytest

from lstmexp.errors import SpecError
from lstmexp.search import count_done, run_search
from lstmexp.storage.urls import load_existing_study
from tests.search_specs import journal, tiny


def test_resuming_continues_to_the_target_and_refuses_changed_objectives(tmp_path):
    url = journal(tmp_path)
    run_search(tiny("resume", "search.trials=2"), url)
    summary = run_search(tiny("resume", "search.trials=3"), url)
    assert (summary.done, summary.ran_now) == (3, 1)
    with pytest.raises(SpecError, match=r"different search\.objectives"):
        run_search(tiny("resume", "search.objectives=s_per_epoch"), url)
    assert count_done(load_existing_study(url, "resume")) == 3
