"""docs/draft.md is current: its config reference is the one DraftSettings generates."""

from __future__ import annotations

from components.draft.reference import DOC, reference_table, render
from components.draft.settings import DraftSettings


def test_the_config_reference_in_docs_is_current() -> None:
    document = DOC.read_text(encoding="utf-8")
    assert render(document) == document, (
        "stale docs/draft.md: run `.venv/bin/python -m components.draft.reference`"
    )


def test_every_top_level_key_is_documented() -> None:
    table = reference_table()
    for name, field in DraftSettings.model_fields.items():
        key = f"`draft:{field.alias or name}"
        assert key in table, key


def test_limits_users_rely_on_are_in_the_reference() -> None:
    rows = {line.split("|")[1].strip(): line for line in reference_table().splitlines()[2:]}
    assert "1 to 48" in rows["`draft:ttlHours`"]
    assert "60 to 3600" in rows["`draft:vault.tokenTtlSeconds`"]
    assert "secret" in rows["`draft:secrets`"]
