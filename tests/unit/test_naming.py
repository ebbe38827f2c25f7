"""Branch naming: every derived name is valid, stable and unique per branch."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.naming import (
    HELM_RELEASE_MAX,
    NamingError,
    is_dns_label,
    is_docker_tag,
    names_for,
    slug_for,
)

SHA = "0123456789abcdef0123456789abcdef01234567"

# Text a branch name may hold: anything git accepts, including unicode and uppercase.
_GIT_OK = st.characters(
    blacklist_categories=("Cs", "Cc"),
    blacklist_characters=" ~^:?*[\\\x7f",
)
branch_tail = st.text(_GIT_OK, min_size=1, max_size=220).filter(
    lambda t: (
        ".." not in t
        and "@{" not in t
        and "//" not in t
        and "/." not in t
        and not t.startswith((".", "/"))
        and not t.endswith((".", "/", ".lock"))
        and ".lock/" not in t
        and t.strip() == t
    )
)
draft_branch = st.builds(
    lambda p, t: p + t, st.sampled_from(["feature/", "bugfix/", "Feature/", "BUGFIX/"]), branch_tail
)


@given(draft_branch)
@settings(max_examples=600)
def test_every_name_is_valid_for_kubernetes_helm_and_docker(branch: str) -> None:
    names = names_for(branch, SHA)
    assert is_dns_label(names.slug)
    assert is_dns_label(names.namespace) and len(names.namespace) <= 63
    assert names.stack == names.namespace == names.helm_release
    assert len(names.helm_release) <= HELM_RELEASE_MAX
    assert names.image_tag is not None and is_docker_tag(names.image_tag)
    assert names.image_tag == f"{names.stack}-{SHA[:7]}"
    # The draft URL host <slug>.<domain> keeps every DNS label within 63 characters.
    assert len(names.slug) <= 63


@given(draft_branch)
def test_names_are_deterministic(branch: str) -> None:
    assert names_for(branch, SHA) == names_for(branch, SHA)


@given(st.lists(draft_branch, min_size=2, max_size=40, unique=True))
@settings(max_examples=300)
def test_distinct_branches_never_share_a_slug(branches: list[str]) -> None:
    normalized = {b.strip() for b in branches}
    slugs = {slug_for(b) for b in normalized}
    assert len(slugs) == len(normalized)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("feature/a-b", "feature/a/b"),  # '/' and '-' fold alike
        ("feature/a-b", "feature/a_b"),
        ("feature/x", "feature/X"),  # case
        ("feature/x", "Feature/x"),
        ("feature/login", "bugfix/login"),
        ("feature/" + "a" * 200, "feature/" + "a" * 199 + "b"),  # differ only past the cut
        ("feature/задача-1", "feature/задача-2"),  # unicode that folds away
    ],
)
def test_lookalike_branches_get_different_names(a: str, b: str) -> None:
    assert slug_for(a) != slug_for(b)


def test_plain_branches_get_readable_names() -> None:
    names = names_for("feature/login-page", "ABCDEF0123")
    assert names.stack == "draft-feature-login-page"
    assert names.image_tag == "draft-feature-login-page-abcdef0"
    assert slug_for("refs/heads/bugfix/crash-42") == "bugfix-crash-42"


def test_hostile_names_are_cut_and_hashed_not_refused() -> None:
    long_slug = slug_for("feature/" + "Очень-длинное-имя-" * 12)
    assert is_dns_label(long_slug)
    assert re.fullmatch(r"feature-ochen-dlinnoe-imya-[a-z0-9-]*--[a-z2-7]{8}", long_slug)
    assert slug_for("feature/Задача-42").startswith("feature-zadacha-42--")
    assert is_dns_label(slug_for("feature/🚀"))


@pytest.mark.parametrize(
    ("branch", "reason"),
    [
        ("main", "gets no draft"),
        ("develop", "gets no draft"),
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("feature/", "not a valid git branch name"),
        ("release/1.0", "gets no draft"),
        ("feature/my thing", "not a valid git branch name"),
        ("feature/a..b", "not a valid git branch name"),
    ],
)
def test_branches_without_a_draft_are_refused_with_the_reason(branch: str, reason: str) -> None:
    with pytest.raises(NamingError, match=reason):
        names_for(branch)


@pytest.mark.parametrize("sha", ["xyz1234", "abc", "", "0123456789abcdef" * 5])
def test_a_sha_that_is_not_a_commit_id_is_refused(sha: str) -> None:
    with pytest.raises(NamingError, match=r"sha: .* hex commit id"):
        names_for("feature/x", sha)
