"""Branch naming: every derived name is valid, stable and unique per branch."""

from __future__ import annotations

import fnmatch
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
    vault_names,
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
segment = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?", fullmatch=True)
draft_branch = st.builds(
    lambda p, t: p + t, st.sampled_from(["feature/", "bugfix/", "Feature/", "BUGFIX/"]), branch_tail
)


@given(draft_branch, segment, segment)
@settings(max_examples=600)
def test_every_name_is_valid_for_kubernetes_helm_and_docker(
    branch: str, team: str, service: str
) -> None:
    names = names_for(branch, SHA, team=team, service=service)
    assert is_dns_label(names.slug)
    assert is_dns_label(names.namespace) and len(names.namespace) <= 63
    assert names.stack == names.helm_release
    assert names.namespace.startswith(names.stack + "-")
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
    assert re.fullmatch(
        r"draft-feature-login-page-[a-z2-7]{8}",
        names_for("feature/login-page", team="platform", service="tasks").namespace,
    )
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


# -- owners: two services (or teams) on one branch never share a namespace or a Vault role --


@given(draft_branch, st.lists(st.tuples(segment, segment), min_size=2, max_size=20, unique=True))
@settings(max_examples=200)
def test_owners_of_one_branch_never_share_a_namespace_or_vault_name(
    branch: str, owners: list[tuple[str, str]]
) -> None:
    namespaces = {names_for(branch, team=t, service=s).namespace for t, s in owners}
    roles = {vault_names(t, s).draft_role for t, s in owners}
    ci_roles = {vault_names(t, s).ci_role for t, s in owners}
    assert len(namespaces) == len(roles) == len(ci_roles) == len(owners)


@given(draft_branch, segment, segment, segment, segment)
def test_a_role_binds_its_own_drafts_namespaces_and_no_other_owners(
    branch: str, team: str, service: str, other_team: str, other_service: str
) -> None:
    """Vault matches bound namespaces as a glob: draft-*-<owner> (checked with fnmatch)."""
    glob = vault_names(team, service).namespaces
    own = names_for(branch, team=team, service=service).namespace
    assert fnmatch.fnmatchcase(own, glob)
    if (other_team, other_service) != (team, service):
        other = names_for(branch, team=other_team, service=other_service).namespace
        assert not fnmatch.fnmatchcase(other, glob)


def test_the_same_branch_of_two_services_gets_two_namespaces_one_stack() -> None:
    tasks = names_for("feature/login", team="platform", service="tasks")
    billing = names_for("feature/login", team="platform", service="billing")
    assert tasks.stack == billing.stack == "draft-feature-login"
    assert tasks.namespace != billing.namespace
    assert vault_names("platform", "tasks").draft_role == "draft.platform.tasks"
    assert vault_names("platform", "tasks").ci_role == "ci.platform.tasks"
    # "a-b"/"c" and "a"/"b-c" would both be draft-a-b-c with a dash as the separator.
    assert vault_names("a-b", "c").draft_role != vault_names("a", "b-c").draft_role


def test_the_namespace_needs_team_and_service() -> None:
    names = names_for("feature/login")
    with pytest.raises(NamingError, match="team and service"):
        _ = names.namespace
    assert "namespace" not in names.as_dict()


@pytest.mark.parametrize(
    ("team", "service", "key"),
    [("Platform", "tasks", "team"), ("platform", "../prod", "service"), ("a" * 41, "x", "team")],
)
def test_a_bad_team_or_service_is_refused_naming_the_key(team: str, service: str, key: str) -> None:
    with pytest.raises(NamingError, match=f"^{key}: .* lowercase letters"):
        vault_names(team, service)
