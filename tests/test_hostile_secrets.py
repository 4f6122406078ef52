"""Secrets in hostile storage URLs: a password is masked in every error, whatever the URL's form."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstmexp.storage import mask_text
from tests.hostile import assert_one_line, fingerprint

SECRET = "nsecret9z"


@pytest.mark.parametrize("url", [
    f"u:{SECRET}@host/x",
    f"postgresql:/u:{SECRET}@h/d",
    f"postgresql//u:{SECRET}@h/d",
    f"postgresql:u:{SECRET}@h/d",
    f"mysql:/admin:{SECRET}@db.example/x",
    f"sqlite:/user:{SECRET}@x.db",
])
@pytest.mark.parametrize("debug", [False, True])
def test_a_malformed_url_never_prints_its_password(cli, workdir: Path, url: str, debug: bool):
    before = fingerprint(workdir)
    result = cli(*(["--debug"] if debug else []), "studies", "--storage", url)
    assert SECRET not in result.out + result.err
    if not debug:
        assert_one_line(result, "***@")
    assert result.code == 2, result.err
    assert fingerprint(workdir) == before


@pytest.mark.parametrize("text", [
    f"could not open 'u:{SECRET}@host/x'",
    f"bad url postgresql//u:{SECRET}@h/d here",
    f"x=postgresql:u:{SECRET}@h/d",
    f'"redis:/u:{SECRET}@h:6379"',
])
def test_mask_text_hides_any_user_secret_at(text: str):
    masked = mask_text(text)
    assert SECRET not in masked
    assert "***@" in masked
