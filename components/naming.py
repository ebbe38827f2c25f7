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
* The slug is at most 47 characters, so ``draft-<slug>`` (stack, namespace and Helm
  release alike) fits Helm's 53-character release limit and DNS-1123's 63.
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

_CANONICAL_REST = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PREFIX = re.compile(r"[a-z0-9]+/")
_SHA = re.compile(r"[0-9a-f]{7,64}")
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DOCKER_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# What git itself refuses in a branch name (git check-ref-format), in one pattern.
_GIT_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|/\.|\.lock(?:/|$)")


class NamingError(ValueError):
    """A branch or sha that cannot be named; the message says what form is expected."""


@dataclass(frozen=True)
class DraftNames:
    """Every name a draft environment uses, derived from one branch (and optionally a sha)."""

    branch: str
    slug: str
    stack: str
    namespace: str
    helm_release: str
    image_tag: str | None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


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
    branch: str, sha: str | None = None, prefixes: tuple[str, ...] = DEFAULT_PREFIXES
) -> DraftNames:
    """All names of a branch's draft; the image tag only when a sha is given."""
    slug = slug_for(branch, prefixes)
    full = DRAFT_PREFIX + slug
    tag = f"{full}-{short_sha(sha)}" if sha is not None else None
    return DraftNames(
        branch=normalize_branch(branch),
        slug=slug,
        stack=full,
        namespace=full,
        helm_release=full,
        image_tag=tag,
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
