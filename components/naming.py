"""Branch -> slug -> stack, namespace, Helm release and image tag.

The one place names are derived. Rules:

* Only branches under a draft prefix (``feature/``, ``bugfix/`` by default, matched
  case-insensitively) get a draft; ``refs/heads/`` is accepted and dropped.
* A *canonical* branch (``<prefix>/<word>[-<word>]...`` in lowercase ASCII letters and
  digits) maps to the readable slug ``<prefix>-<rest>``: ``feature/login`` -> ``feature-login``.
* Any other branch (uppercase, unicode, ``_``, ``.``, ``/`` inside, too long) maps to a
  transliterated (``задача`` -> ``zadacha``), truncated base plus ``--`` and a stable hash of the exact branch name. Canonical
  slugs never contain ``--``, so the two forms cannot meet, and distinct branches never
  share a slug short of a 40-bit hash collision.
* The slug is at most 47 characters, so ``draft-<slug>`` (stack and Helm release) fits
  Helm's 53-character release limit.
* The namespace carries its owner: ``draft-<slug>-<owner>``, where ``<owner>`` is an
  8-character hash of ``<team>/<service>`` (at most 62 characters, a DNS-1123 label). Two
  services (or teams) deploying the same branch into one cluster get two namespaces, and
  Vault can bind a team/service's role to exactly its drafts' namespaces
  (``draft-*-<owner>``).
* Vault names are per team/service, never per branch: the drafts' Kubernetes auth role and
  policy ``draft.<team>.<service>``, the CI's ``ci.<team>.<service>``. Team and service are
  ``[a-z0-9-]`` and the separator is ``.``, so two pairs never share a name.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass

from anyascii import anyascii

DEFAULT_PREFIXES: tuple[str, ...] = ("feature/", "bugfix/")
DRAFT_PREFIX = "draft-"
HELM_RELEASE_MAX = 53
SLUG_MAX = HELM_RELEASE_MAX - len(DRAFT_PREFIX)  # 47
HASH_LEN = 8
SHA_SHORT = 7
OWNER_LEN = 8
SEGMENT_MAX = 40

_CANONICAL_REST = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PREFIX = re.compile(r"[a-z0-9]+/")
_SHA = re.compile(r"[0-9a-f]{7,64}")
_SEGMENT = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DOCKER_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# What git itself refuses in a branch name (git check-ref-format), in one pattern.
_GIT_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|/\.|\.lock(?:/|$)")


class NamingError(ValueError):
    """A branch or sha that cannot be named; the message says what form is expected."""


@dataclass(frozen=True)
class DraftNames:
    """Every name a draft environment uses, derived from one branch (optionally a sha) and
    its owner (team and service: the namespace needs them)."""

    branch: str
    slug: str
    stack: str
    helm_release: str
    image_tag: str | None
    owner: str | None = None

    @property
    def namespace(self) -> str:
        """``draft-<slug>-<owner>``; NamingError when the owner (team, service) is unknown."""
        if self.owner is None:
            raise NamingError("team and service: both are needed to name the draft's namespace")
        return f"{self.stack}-{self.owner}"

    def as_dict(self) -> dict[str, str | None]:
        """The names in reading order; ``namespace`` only when the owner is known."""
        names: dict[str, str | None] = {"branch": self.branch, "slug": self.slug}
        names["stack"] = self.stack
        if self.owner is not None:
            names["namespace"] = self.namespace
        names |= {"helm_release": self.helm_release, "image_tag": self.image_tag}
        names["owner"] = self.owner
        return names


@dataclass(frozen=True)
class VaultNames:
    """The Vault names of one team/service, provisioned once by an admin."""

    team: str
    service: str
    draft_role: str
    """Kubernetes auth role (and its policy) the drafts' SecretStore logs in with."""
    ci_role: str
    """JWT/AppRole role (and its policy) the team's pipelines log in with."""
    namespaces: str
    """The glob of the drafts' namespaces, which the Kubernetes auth role is bound to."""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def check_segment(name: str, value: str) -> str:
    """A team or service: lowercase letters, digits and inner dashes, 1-40 characters."""
    if not _SEGMENT.fullmatch(value):
        raise NamingError(
            f"{name}: {value!r} must be 1-{SEGMENT_MAX} lowercase letters, digits and "
            "inner dashes, e.g. 'payments'"
        )
    return value


def owner_key(team: str, service: str) -> str:
    """The 8-character key of a team/service that its draft namespaces end with."""
    check_segment("team", team)
    check_segment("service", service)
    return _short_hash(f"{team}/{service}")


def vault_names(team: str, service: str) -> VaultNames:
    """Vault role and policy names of a team/service, and the namespaces its drafts use."""
    owner = owner_key(team, service)
    return VaultNames(
        team=team,
        service=service,
        draft_role=f"draft.{team}.{service}",
        ci_role=f"ci.{team}.{service}",
        namespaces=f"{DRAFT_PREFIX}*-{owner}",
    )


def normalize_branch(branch: str) -> str:
    """Strip whitespace and a ``refs/heads/`` prefix; refuse names git would refuse."""
    name = branch.strip()
    name = name.removeprefix("refs/heads/")
    if not name:
        raise NamingError("branch: must not be empty; expected e.g. 'feature/login'")
    if _GIT_FORBIDDEN.search(name) or name.startswith(("-", "/", ".")) or name.endswith(("/", ".")):
        raise NamingError(
            f"branch: {name!r} is not a valid git branch name "
            "(no spaces, control characters, '..', '~^:?*[\\', '@{', or leading/trailing '/' or '.')"
        )
    return name


def validate_prefixes(prefixes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Draft prefixes must look like ``feature/``: lowercase letters/digits and one slash."""
    checked = tuple(prefixes)
    if not checked:
        raise NamingError("branchPrefixes: at least one prefix is required, e.g. 'feature/'")
    for prefix in checked:
        if not _PREFIX.fullmatch(prefix):
            raise NamingError(
                f"branchPrefixes: {prefix!r} must be lowercase letters or digits ending in '/', "
                "e.g. 'feature/'"
            )
    return checked


def draft_prefix_of(branch: str, prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> str | None:
    """The draft prefix a (normalized) branch falls under, or None when it gets no draft."""
    for prefix in prefixes:
        head = branch[: len(prefix)]
        if head.isascii() and head.lower() == prefix and len(branch) > len(prefix):
            return prefix
    return None


def _fold(text: str) -> str:
    """Lowercase ASCII letters, digits and single dashes; unicode is transliterated."""
    ascii_text = anyascii(unicodedata.normalize("NFKC", text))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _short_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:HASH_LEN]


def slug_for(branch: str, prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> str:
    """The DNS-1123 slug of a draft branch; raises NamingError for a branch with no draft."""
    name = normalize_branch(branch)
    prefix = draft_prefix_of(name, prefixes)
    if prefix is None:
        wanted = " or ".join(f"'{p}*'" for p in prefixes)
        raise NamingError(f"branch: {name!r} gets no draft environment; only {wanted} branches do")
    rest = name[len(prefix) :]
    readable = prefix[:-1] + "-" + rest
    canonical = name.startswith(prefix) and _CANONICAL_REST.fullmatch(rest) is not None
    if canonical and len(readable) <= SLUG_MAX:
        return readable
    base = _fold(readable)[: SLUG_MAX - HASH_LEN - 2].rstrip("-")
    return f"{base}--{_short_hash(name)}"


def short_sha(sha: str) -> str:
    """The 7-character commit id used in image tags; refuses anything but a hex commit id."""
    cleaned = sha.strip().lower()
    if not _SHA.fullmatch(cleaned):
        raise NamingError(f"sha: {sha!r} must be a hex commit id of 7 to 64 characters")
    return cleaned[:SHA_SHORT]


def names_for(
    branch: str,
    sha: str | None = None,
    prefixes: tuple[str, ...] = DEFAULT_PREFIXES,
    *,
    team: str | None = None,
    service: str | None = None,
) -> DraftNames:
    """All names of a branch's draft; the image tag only with a sha, the namespace only
    with team and service."""
    slug = slug_for(branch, prefixes)
    full = DRAFT_PREFIX + slug
    tag = f"{full}-{short_sha(sha)}" if sha is not None else None
    owner = owner_key(team, service) if team is not None and service is not None else None
    return DraftNames(
        branch=normalize_branch(branch),
        slug=slug,
        stack=full,
        helm_release=full,
        image_tag=tag,
        owner=owner,
    )


def is_dns_label(value: str) -> bool:
    """True when ``value`` is a valid DNS-1123 label (Kubernetes namespace rules)."""
    return bool(_DNS_LABEL.fullmatch(value))


def is_docker_tag(value: str) -> bool:
    """True when ``value`` is a valid Docker image tag."""
    return bool(_DOCKER_TAG.fullmatch(value))


def is_draft_stack(stack: str) -> bool:
    """True for stack names of the draft kind (``draft-*``)."""
    return stack.startswith(DRAFT_PREFIX) and len(stack) > len(DRAFT_PREFIX)
