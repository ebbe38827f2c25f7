"""Secrets are secret: credentials in inputs are Pulumi secrets, and never where they leak anyway.

- kubernetes-secret-data: every key of a Kubernetes Secret's data/stringData is a Pulumi secret.
- configmap-credentials: ConfigMaps hold no credentials (Kubernetes shows them to anyone who
  can read config; they belong in a Secret fed by Vault).
- credentials-in-clear: any other resource (remote and local commands, Helm releases,
  workloads' env, providers...) whose inputs carry a value that looks like a credential must
  have it marked secret, or it is stored and shown in plain text.
- command-text-secrets: a pulumi-command ``create``/``update``/``delete`` text holds no secret:
  when the command fails the provider repeats the whole text in its error. Secrets go through
  ``stdin``.

Whether a value is secret is read from the secret markers the engine sends (see
``pack_support.install_secret_hook``); the messages name keys and paths, never values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from credential_patterns import Hit, keyed_credential, text_credentials
from pack_support import (
    PropPath,
    config_texts,
    describe,
    get_path,
    is_list,
    known_items,
    resource_type,
    secrecy,
    show_path,
    texts_schema,
    walk_values,
)
from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

SECRET_TYPES = frozenset({"kubernetes:core/v1:Secret", "kubernetes:core/v1:SecretPatch"})
CONFIGMAP_TYPES = frozenset({"kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:ConfigMapPatch"})
COMMAND_TYPES = frozenset({"command:remote:Command", "command:local:Command"})
COMMAND_TEXT_FIELDS = ("create", "update", "delete")
# Mappings that describe where a secret comes from, not the secret.
REFERENCE_ENTRIES = ("remoteRef", "secretKeyRef", "secretRef", "sourceRef")
FIX = "mark it secret (pulumi.Output.secret, config.require_secret) or read it from Vault"
COMMAND_FIX = (
    "pass it through stdin as a Pulumi secret and read it in the script (command text is "
    "echoed when the command fails)"
)


def credential_hits(node: Any, path: PropPath = ()) -> Iterator[tuple[PropPath, Hit]]:
    """Every credential-looking value in ``node``: by key, by ``{name, value}`` pair, by shape."""
    for at, value in walk_values(node, path):
        if isinstance(value, Mapping):
            pairs = dict(known_items(value))
            if any(key in pairs for key in REFERENCE_ENTRIES):
                continue  # an entry that points at a secret elsewhere (ExternalSecret data)
            name, literal = pairs.get("name"), pairs.get("value")
            if isinstance(name, str) and isinstance(literal, str):  # env: [{name, value}]
                hit = keyed_credential(name, literal)
                if hit is not None:
                    yield (*at, "value"), hit
            for key, item in pairs.items():
                hit = keyed_credential(key, item)
                if hit is not None:
                    yield (*at, key), hit
        elif isinstance(value, str):
            for hit in text_credentials(value):
                yield at, hit


def _group(hits: Iterator[tuple[PropPath, Hit]]) -> dict[PropPath, list[str]]:
    grouped: dict[PropPath, list[str]] = {}
    for path, hit in hits:
        reasons = grouped.setdefault(path, [])
        if hit.reason not in reasons:
            reasons.append(hit.reason)
    return grouped


def validate_secret_data(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if resource_type(args) not in SECRET_TYPES:
        return
    marks = secrecy(args.urn)
    for field in ("data", "stringData"):
        data = get_path(args.props, (field,))
        if not isinstance(data, Mapping):
            continue
        clear = [
            key
            for key, _ in known_items(data)
            if marks is None or not marks.is_secret((field, key))
        ]
        if clear:
            keys = ", ".join(f"'{k}'" for k in sorted(clear))
            report(
                f"{describe(args)}: {field} key(s) {keys} are not Pulumi secrets and would be "
                f"stored and shown in plain text; {FIX}.",
                None,
            )


def validate_configmap(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if resource_type(args) not in CONFIGMAP_TYPES:
        return
    marks = secrecy(args.urn)
    for field in ("data", "binaryData"):
        data = get_path(args.props, (field,))
        if not isinstance(data, Mapping):
            continue
        found = _group(credential_hits(data, (field,)))
        # Marking it secret hides it in Pulumi's state, not in the cluster.
        marked: list[PropPath] = []
        if marks is not None and marks.is_secret((field,)):
            marked = [(field,)]  # the whole map (the SDK marks it when any value is secret)
        elif marks is not None:
            marked = [(field, key) for key, _ in known_items(data) if marks.is_secret((field, key))]
        for path in marked:
            found.setdefault(path, []).append("a value marked secret")
        for path, reasons in found.items():
            report(
                f"{describe(args)}: {show_path(path)} holds {' and '.join(reasons)}; a "
                f"ConfigMap is not a secret store, even for a Pulumi secret: anyone who can "
                f"read the namespace's config sees it. Put it in a Secret (synced from Vault by "
                f"External Secrets) and reference that instead.",
                None,
            )


def validate_clear_credentials(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = resource_type(args)
    if kind in SECRET_TYPES or kind in CONFIGMAP_TYPES:
        return  # their own policies
    if kind in config_texts(args, "excludeTypes", ()):
        return
    marks = secrecy(args.urn)
    clear = {
        path: reasons
        for path, reasons in _group(credential_hits(args.props)).items()
        if marks is None or not marks.is_secret(path)
    }
    for path, reasons in clear.items():
        in_text = kind in COMMAND_TYPES and path[:1] in tuple((f,) for f in COMMAND_TEXT_FIELDS)
        fix = COMMAND_FIX if in_text else FIX
        report(
            f"{describe(args)}: input {show_path(path)} holds {' and '.join(reasons)} in plain "
            f"text; {fix}.",
            None,
        )


def validate_command_text(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in COMMAND_TYPES:
        return
    marks = secrecy(args.urn)
    if marks is None:
        return
    for field in COMMAND_TEXT_FIELDS:
        value = get_path(args.props, (field,))
        if value is None or is_list(value):
            continue
        if marks.holds_secret((field,)):
            report(
                f"{describe(args)}: the {field} command text contains a secret; when the "
                f"command fails, pulumi-command repeats the whole text in its error. Pass "
                f"secrets through stdin (with umask 077 when writing files).",
                None,
            )


POLICIES = [
    ResourceValidationPolicy(
        name="kubernetes-secret-data",
        description="Kubernetes Secret data is a Pulumi secret, never plain text in state.",
        validate=validate_secret_data,
    ),
    ResourceValidationPolicy(
        name="configmap-credentials",
        description="ConfigMaps hold no credentials; they belong in Secrets.",
        validate=validate_configmap,
    ),
    ResourceValidationPolicy(
        name="credentials-in-clear",
        description="Inputs that look like credentials (passwords, tokens, keys, URLs with "
        "passwords) are Pulumi secrets.",
        validate=validate_clear_credentials,
        config_schema=PolicyConfigSchema(
            properties={
                "excludeTypes": texts_schema((), "resource types this policy does not inspect")
            }
        ),
    ),
    ResourceValidationPolicy(
        name="command-text-secrets",
        description="Command texts (create/update/delete) hold no secrets: a failing command "
        "echoes its text. Secrets go through stdin.",
        validate=validate_command_text,
    ),
]
