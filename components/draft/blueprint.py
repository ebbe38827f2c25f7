"""What a draft will contain, computed and checked before any resource is registered.

Everything here is pure or reads the project's own files: names, labels, the image
reference, the chart and its merged values (validated against the chart's
``values.schema.json`` when it has one), the smoke script. Any problem is a ConfigError
that names the key and the expected form, so a bad draft registers nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from components.config import ConfigError, deep_merge
from components.draft.settings import DraftSettings, Resources
from components.naming import DRAFT_PREFIX, DraftNames

LABEL_PREFIX = "environments.dev"
MANAGED_BY = "environments"
PULL_SECRET = "registry-pull"
SMOKE_SECRET = "smoke-credentials"
DB_NAME = "db"
SECRET_STORE = "vault"
SMOKE_SCRIPT = "scripts/smoke_draft.sh"
DB_URL_KEY = "url"
MAX_HOSTNAME = 253
SHOWN_SCHEMA_ERRORS = 5

_SUFFIXES = {
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
}


def quantity(text: str) -> Decimal:
    """A Kubernetes quantity (``250m``, ``1Gi``, ``2``) as a number of base units."""
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix):
            return Decimal(text[: -len(suffix)]) * _SUFFIXES[suffix]
    return Decimal(text)


def expiry_label(moment: datetime) -> str:
    """ISO 8601 basic format (``20261124T050000Z``): a valid Kubernetes label value."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class ChartRef:
    """Where Helm finds the chart: a local path, a repository chart, or an OCI reference."""

    chart: str
    version: str | None
    repository: str | None


@dataclass(frozen=True)
class DraftBlueprint:
    """Everything about a draft that is known before it is deployed."""

    settings: DraftSettings
    names: DraftNames
    expires: datetime
    host: str
    url: str
    image_repository: str
    image_tag: str
    labels: dict[str, str]
    annotations: dict[str, str]
    chart: ChartRef
    values: dict[str, Any]
    smoke_script: str | None
    smoke_base_url: str
    service_account: str
    app_secrets: dict[str, str]
    """Vault service -> the Kubernetes Secret of the app's keys from it (draft:externalSecrets.env)."""
    pull_secrets: tuple[str, ...]
    """Image pull Secrets of pods that run the app image (none without registryPullPath)."""

    @property
    def image(self) -> str:
        return f"{self.image_repository}:{self.image_tag}"

    @property
    def namespace(self) -> str:
        return self.names.namespace

    def selector(self, name: str) -> dict[str, str]:
        """Pod labels a workload ``name`` of this draft (``db``, a mock service) selects on."""
        return {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/part-of": self.names.helm_release,
        }

    def object_labels(self, component: str) -> dict[str, str]:
        """Labels of an object the environment creates in its namespace."""
        return {
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "app.kubernetes.io/part-of": self.names.helm_release,
            "app.kubernetes.io/component": component,
            f"{LABEL_PREFIX}/branch": self.names.slug,
        }


def _namespace_labels(
    settings: DraftSettings, names: DraftNames, expires: datetime
) -> dict[str, str]:
    assert names.image_tag is not None
    return {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        f"{LABEL_PREFIX}/kind": "draft",
        f"{LABEL_PREFIX}/branch": names.slug,
        f"{LABEL_PREFIX}/team": settings.team,
        f"{LABEL_PREFIX}/service": settings.service,
        f"{LABEL_PREFIX}/sha": names.image_tag.rsplit("-", 1)[-1],
        f"{LABEL_PREFIX}/expires-at": expiry_label(expires),
        # What log collectors and alert routes select draft namespaces on.
        f"{LABEL_PREFIX}/logs": "collect",
        f"{LABEL_PREFIX}/alerts": "draft",
        # Objects a Helm release installs are invisible to the policy pack: the namespace
        # itself enforces the restricted Pod Security Standard.
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


def _read_yaml_mapping(path: Path, key: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        raise ConfigError(
            f"{key}: {path.name} is not readable YAML (expected a values file)"
        ) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{key}: {path.name} must hold a mapping of Helm values")
    return document


def _chart_ref(settings: DraftSettings, project_dir: Path) -> tuple[ChartRef, Path | None]:
    chart = settings.chart
    if chart.source == "oci":
        assert chart.oci is not None
        return ChartRef(chart.oci, chart.version, None), None
    if chart.source == "repository":
        assert chart.name is not None
        return ChartRef(chart.name, chart.version, chart.repository), None
    assert chart.path is not None
    directory = (project_dir / chart.path).resolve()
    if not (directory / "Chart.yaml").is_file():
        raise ConfigError(
            f"draft:chart.path: {chart.path} is not a chart (expected: a directory with "
            "Chart.yaml, relative to the project, e.g. charts/app)"
        )
    return ChartRef(chart.path, chart.version, None), directory


def _schema_problems(schema: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    """Where ``values`` break the chart's schema: paths and rules, never the values."""
    import jsonschema  # type: ignore[import-untyped]

    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft7Validator
    )
    validator = validator_class(schema)
    problems = []
    for error in sorted(validator.iter_errors(values), key=lambda e: list(map(str, e.path))):
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        rule = error.validator
        limit = error.validator_value
        if rule == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            detail = f"unknown key(s) {', '.join(map(str, extra))}"
        elif rule in ("required", "enum", "type", "pattern", "const") or isinstance(
            limit, int | float | str
        ):
            detail = f"{rule} {json.dumps(limit)}"
        else:
            detail = str(rule)
        problems.append(f"{where}: fails {detail}")
    return problems


def validate_chart_values(chart_dir: Path, values: Mapping[str, Any]) -> None:
    """Helm's own check: the chart's values.yaml with ``values`` over it, against its schema."""
    schema_path = chart_dir / "values.schema.json"
    if not schema_path.is_file():
        return
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise ConfigError(
            f"draft:chart.path: {schema_path.name} of the chart is not valid JSON"
        ) from None
    defaults_path = chart_dir / "values.yaml"
    defaults = (
        _read_yaml_mapping(defaults_path, "draft:chart.path") if defaults_path.is_file() else {}
    )
    problems = _schema_problems(schema, deep_merge(defaults, values))
    if problems:
        shown = problems[:SHOWN_SCHEMA_ERRORS]
        more = len(problems) - len(shown)
        raise ConfigError(
            "draft:chart.values: the merged Helm values (values file, draft:chart.values, "
            "computed values) do not match the chart's values.schema.json:\n  "
            + "\n  ".join(shown)
            + (f"\n  ... and {more} more" if more else "")
        )


def _check_resources(settings: DraftSettings, replicas: int) -> None:
    """Containers fit the LimitRange maxima, and the quota leaves room for every pod."""
    limits = settings.limits
    own: dict[str, Resources] = {}
    if settings.database.mode == "statefulset":
        own["draft:database.resources"] = settings.database.resources
    if settings.migrations.enabled:
        own["draft:migrations.resources"] = settings.migrations.resources
    if settings.smoke.enabled:
        own["draft:smoke.resources"] = settings.smoke.resources
    for index, mock in enumerate(settings.mocks):
        own[f"draft:mocks[{index}].resources"] = mock.resources
    for key, resources in own.items():
        if quantity(resources.limits_cpu) > quantity(limits.max_cpu) or quantity(
            resources.limits_memory
        ) > quantity(limits.max_memory):
            raise ConfigError(
                f"{key} exceeds draft:limits (expected: limits of at most "
                f"{limits.max_cpu} CPU and {limits.max_memory} memory per container)"
            )
        if quantity(resources.requests_cpu) > quantity(resources.limits_cpu) or quantity(
            resources.requests_memory
        ) > quantity(resources.limits_memory):
            raise ConfigError(f"{key} requests more than its limits (expected: requests <= limits)")
    # Every pod at once, plus a second set of app pods during a rolling update.
    needed = len(own) + 2 * replicas
    if settings.quota.pods < needed:
        raise ConfigError(
            f"draft:quota.pods is too small for this draft (expected: at least {needed}: the "
            "database, the Jobs, every mock service and twice the app's replicas)"
        )


def _check_paths(settings: DraftSettings, project_dir: Path) -> str | None:
    """The build context and the smoke script exist; returns the script's text."""
    if not settings.image.prebuilt:
        context = project_dir / settings.image.context
        if not context.is_dir():
            raise ConfigError(
                f"draft:image.context: {settings.image.context} is not a directory (expected: "
                "the app's build context relative to the project, or draft:image.prebuilt: true)"
            )
        if not (context / settings.image.dockerfile).is_file():
            raise ConfigError(
                f"draft:image.dockerfile: {settings.image.dockerfile} is not in the build context"
            )
    if not settings.smoke.enabled:
        return None
    script = project_dir / SMOKE_SCRIPT
    if not script.is_file():
        raise ConfigError(
            f"draft:smoke.enabled: {SMOKE_SCRIPT} is missing from the project "
            "(expected: the smoke script, or draft:smoke.enabled: false)"
        )
    return script.read_text(encoding="utf-8")


def draft_host(names: DraftNames, base_domain: str) -> str:
    """``<slug>-<owner>.<baseDomain>``: the namespace's name without ``draft-``, one label.

    It carries the owner (team/service) as the namespace does, so two services deploying the
    same branch never share a host, and stays one DNS label (≤ 56 characters) under the
    base domain, so one wildcard certificate for ``*.<baseDomain>`` serves every draft.
    """
    return f"{names.namespace.removeprefix(DRAFT_PREFIX)}.{base_domain}"


def smoke_base_url(settings: DraftSettings, names: DraftNames) -> str:
    """The smoke test's URL: a Service in the draft's own namespace, the release's by default.

    The draft's NetworkPolicies let its pods reach only DNS, their own namespace and the
    configured egress targets, so a public URL (the draft's ingress) would time out.
    """
    port = settings.chart.service_port
    default = f"http://{names.helm_release}.{names.namespace}.svc.cluster.local:{port}"
    configured = settings.smoke.base_url
    if configured is None:
        return default
    labels = (urlsplit(configured).hostname or "").split(".")
    in_namespace = len(labels) == 1 or (
        labels[1] == names.namespace and labels[2:3] in ([], ["svc"])
    )
    if labels[0] and in_namespace:
        return configured
    raise ConfigError(
        f"draft:smoke.baseUrl is outside namespace {names.namespace}, which the draft's "
        "NetworkPolicies do not let the smoke Job reach (expected: a Service of the draft, "
        f"e.g. {default}, or no value for the release's own Service)"
    )


def _computed_values(
    settings: DraftSettings, names: DraftNames, host: str, repository: str
) -> dict[str, Any]:
    """The values only the environment knows; they win over the values file and config."""
    assert names.image_tag is not None
    tls: dict[str, Any] = {"enabled": True}
    if settings.ingress.tls_secret_name is not None:
        tls["secretName"] = settings.ingress.tls_secret_name
    return {
        "image": {"repository": repository, "tag": names.image_tag, "pullPolicy": "IfNotPresent"},
        "imagePullSecrets": [{"name": name} for name in _pull_secrets(settings)],
        "serviceAccount": {"create": False, "name": settings.service},
        "podSecurityContext": {"runAsUser": settings.image.run_as_user},
        "service": {"type": "ClusterIP", "port": settings.chart.service_port},
        "ingress": {
            "enabled": True,
            "className": settings.ingress.class_name,
            "host": host,
            "tls": tls,
        },
        "database": {"existingSecret": DB_NAME, "urlKey": DB_URL_KEY},
        "envFromSecrets": list(_app_secrets(settings).values()),
        "mocks": {mock.name: f"http://{mock.name}:{mock.port}" for mock in settings.mocks},
        # No expiry here: it is renewed on every deploy and would restart the pods for nothing.
        "draft": {"slug": names.slug, "sha": names.image_tag.rsplit("-", 1)[-1]},
    }


def _app_secrets(settings: DraftSettings) -> dict[str, str]:
    """Vault service -> Secret name, for the services the app reads keys of."""
    unknown = sorted(set(settings.external_secrets.env) - set(settings.vault_services))
    if unknown:
        raise ConfigError(
            f"draft:externalSecrets.env.{unknown[0]} is not a synced service (expected: one "
            f"of {', '.join(settings.vault_services)}, set in draft:externalSecrets.services)"
        )
    return {
        service: f"{service}-secrets"
        for service in settings.vault_services
        if settings.external_secrets.env.get(service)
    }


def _pull_secrets(settings: DraftSettings) -> tuple[str, ...]:
    return (PULL_SECRET,) if settings.external_secrets.registry_pull_path else ()


def build_blueprint(settings: DraftSettings, project_dir: Path) -> DraftBlueprint:
    """The draft of ``settings`` (resolved), or a ConfigError naming what is wrong."""
    names = settings.names()
    assert names.image_tag is not None
    expires = settings.expiry
    host = draft_host(names, settings.base_domain)
    if len(host) > MAX_HOSTNAME:
        raise ConfigError(
            "draft:baseDomain is too long for <slug>-<owner>.<baseDomain> "
            f"(expected ≤ {MAX_HOSTNAME} characters)"
        )
    repository = "/".join(
        (
            settings.image.registry,
            settings.image.repository or f"{settings.team}/{settings.service}",
        )
    )
    chart, chart_dir = _chart_ref(settings, project_dir)
    values_path = project_dir / settings.chart.values_file
    if not values_path.is_file():
        raise ConfigError(
            f"draft:chart.valuesFile: {settings.chart.values_file} does not exist "
            "(expected: the base values of every draft, e.g. values/draft.yaml)"
        )
    base = _read_yaml_mapping(values_path, "draft:chart.valuesFile")
    computed = _computed_values(settings, names, host, repository)
    values = deep_merge(deep_merge(base, settings.chart.values), computed)
    if chart_dir is not None:
        validate_chart_values(chart_dir, values)
    replicas = values.get("replicaCount", 1)
    _check_resources(settings, replicas if isinstance(replicas, int) else 1)
    script = _check_paths(settings, project_dir)
    return DraftBlueprint(
        settings=settings,
        names=names,
        expires=expires,
        host=host,
        url=f"https://{host}",
        image_repository=repository,
        image_tag=names.image_tag,
        labels=_namespace_labels(settings, names, expires),
        annotations={
            f"{LABEL_PREFIX}/branch": names.branch,
            f"{LABEL_PREFIX}/expires-at": expires.isoformat(),
        },
        chart=chart,
        values=values,
        smoke_script=script,
        smoke_base_url=smoke_base_url(settings, names),
        service_account=settings.service,
        app_secrets=_app_secrets(settings),
        pull_secrets=_pull_secrets(settings),
    )
