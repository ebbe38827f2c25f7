"""What ``envctl vault provision`` would write, as data (no Vault needed)."""

from __future__ import annotations

import pytest

from automation.lifecycle.errors import BadInput
from automation.lifecycle.vault_provision import (
    ProvisionRequest,
    checked,
    provision_writes,
    read_policy,
)

CLAIMS = {"project_path": "group/app"}


def test_also_read_adds_exact_read_paths_of_the_team_or_a_named_team() -> None:
    request = checked(
        ProvisionRequest(
            "payments",
            "api",
            CLAIMS,
            also_read=("worker", "platform/registry-pull", "api", "payments/api"),
        )
    )
    paths = [line for line in read_policy(request, "x").splitlines() if line.startswith("path")]
    assert paths == [
        'path "draft/data/payments/api" {',
        'path "draft/data/payments/worker" {',
        'path "draft/data/platform/registry-pull" {',
    ]


@pytest.mark.parametrize("path", ["../prod", "a/b/c", "team/*", "*", "Team/x"])
def test_also_read_refuses_anything_but_exact_paths(path: str) -> None:
    with pytest.raises(BadInput, match="--also-read"):
        checked(ProvisionRequest("payments", "api", CLAIMS, also_read=(path,)))


def test_no_role_may_hand_out_a_token_living_over_an_hour_or_a_periodic_one() -> None:
    for write in provision_writes(checked(ProvisionRequest("payments", "api", CLAIMS))):
        if "/role/" in write.path:
            lifetime = [
                write.data[k] for k in ("token_ttl", "token_max_ttl", "token_explicit_max_ttl")
            ]
            assert all(0 < ttl <= 3600 for ttl in lifetime) and write.data["token_period"] == 0
    with pytest.raises(BadInput, match="--token-ttl"):
        checked(ProvisionRequest("payments", "api", CLAIMS, token_ttl=3601))
