"""The published settings schemas (docs/schemas/) match the models."""

from __future__ import annotations

import pytest

from tools.export_schemas import MODELS, OUT, render


@pytest.mark.parametrize("namespace", sorted(MODELS))
def test_published_schema_is_current(namespace: str) -> None:
    published = (OUT / f"{namespace}.schema.json").read_text(encoding="utf-8")
    assert published == render(namespace), (
        "stale schema: run `make schemas` and commit docs/schemas/"
    )
