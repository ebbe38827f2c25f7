"""DraftSettings: the ``draft:`` config namespace, validated, with branch and sha resolved.

One nested model per concern (image, database, migrations, chart, quota and limits, network,
mock services, smoke test, monitoring, External Secrets, ingress). Every field has a
description: it is the "expected:" part of the error a bad value gets. Checks that need the
project's files (chart path, values schema, build context) live in ``blueprint``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, model_validator

from components.config import ConfigError, SettingsModel, load_settings
from components.naming import (
    DEFAULT_PREFIXES,
    DraftNames,
    NamingError,
    names_for,
    short_sha,
    validate_prefixes,
    vault_names,
)

MAX_TTL_HOURS = 48
MAX_VAULT_TOKEN_TTL = 3600
MAX_MOCK_SERVICES = 100

DnsName = Annotated[
    str,
    Field(
        pattern=r"^(?=.{1,200}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$",
        description="a lowercase DNS name such as drafts.example.com",
    ),
]
PathSegment = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$",
        description="lowercase letters, digits and inner dashes, at most 40 characters",
    ),
]
ObjectName = Annotated[
    str,
    Field(
        pattern=r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$",
        description="a Kubernetes object name: lowercase letters, digits and inner dashes, "
        "starting with a letter, at most 32 characters",
    ),
]
NamespaceName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        description="a Kubernetes namespace name (DNS-1123 label)",
    ),
]


def _number_text(value: object) -> object:
    """``pulumi config set --path`` stores ``2`` as a number; a quantity is its text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return value


Quantity = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$",
        description="a Kubernetes quantity such as 250m, 512Mi or 2",
    ),
    BeforeValidator(_number_text),
]
ImageRef = Annotated[
    str,
    Field(
        pattern=r"^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*"
        r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
        r"(?::(?!latest(?:@|$))[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:@sha256:[0-9a-f]{64})?"
        r"|@sha256:[0-9a-f]{64})$",
        description="an image pinned by tag or digest, e.g. postgres:16.4-alpine (never :latest)",
    ),
]
Duration = Annotated[
    str,
    Field(
        pattern=r"^([0-9]+(ms|s|m|h))+$",
        description="a duration such as 30s, 5m or 1h",
    ),
]
ApiPath = Annotated[
    str,
    Field(
        pattern=r"^/[A-Za-z0-9._~/-]*$",
        description="an absolute URL path such as /api/tasks",
    ),
]
EnvName = Annotated[
    str,
    Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="an environment variable name"),
]
SecretKey = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_.-]{1,253}$",
        description="a secret key: letters, digits, '_', '.', '-'",
    ),
]
PortName = Annotated[
    str,
    Field(
        pattern=r"^[a-z]([a-z0-9-]{0,13}[a-z0-9])?$",
        description="a container port's name such as http (at most 15 characters)",
    ),
]
PodPort = Annotated[
    Annotated[int, Field(ge=1, le=65535)] | PortName,
    Field(description="a port number (1 to 65535) or a container port's name such as http"),
]


def _ip_networks(
    cidrs: tuple[str, ...], key: str
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``cidrs`` as networks; a ValueError naming ``key`` for a malformed or /0 one."""
    networks = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise ValueError(f"{key} must be IP networks such as 192.0.2.10/32") from None
        if network.prefixlen == 0:
            raise ValueError(f"{key} must not be the whole internet (/0)")
        networks.append(network)
    return networks


def _registry_host(value: str) -> str:
    """``https://registry.example.com:5000/`` -> ``registry.example.com:5000``; a host is required."""
    text = value.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
    text = text.rstrip("/")
    host, _, port = text.partition(":")
    label = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
    if not host:
        raise ValueError("the registry URL has no host")
    if "/" in text or not re.fullmatch(rf"{label}(\.{label})*", host):
        raise ValueError("not a registry host[:port] (no path, no uppercase)")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError("the port must be a number from 1 to 65535")
    return text


RegistryHost = Annotated[
    str,
    AfterValidator(_registry_host),
    Field(
        description="registry host[:port], e.g. registry.example.com (https:// is accepted "
        "and dropped; no path: that belongs in image.repository)"
    ),
]


class VaultSettings(SettingsModel):
    """Where drafts read their secrets and how long Vault credentials may live."""

    address: Annotated[
        str,
        Field(
            pattern=r"^https?://[^/\s:]+(:\d+)?/?$", description="Vault URL, https://host[:port]"
        ),
    ] = "https://vault.example.com"
    kv_mount: Annotated[
        PathSegment, Field(description="KV v2 mount holding draft/<team>/<service>")
    ] = "draft"
    auth_mount: Annotated[PathSegment, Field(description="Vault Kubernetes auth mount path")] = (
        "kubernetes"
    )
    role: Annotated[
        str | None,
        Field(
            pattern=r"^[a-z0-9][a-z0-9.-]{0,98}[a-z0-9]$",
            description="Kubernetes auth role the SecretStore logs in with, provisioned by an "
            "admin (envctl vault provision); draft.<team>.<service> when omitted",
        ),
    ] = None
    audience: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$",
            description="audience of the service account token the SecretStore presents; "
            "the role's audience",
        ),
    ] = "vault"
    token_ttl_seconds: Annotated[
        int,
        Field(
            ge=60,
            le=MAX_VAULT_TOKEN_TTL,
            description="seconds, 60 to 3600, the longest a pipeline's Vault token may live "
            "(envctl refuses longer ones; credentials live one hour at most)",
        ),
    ] = MAX_VAULT_TOKEN_TTL


class Resources(SettingsModel):
    """CPU and memory a container requests and may use at most."""

    requests_cpu: Annotated[Quantity, Field(description="CPU request, e.g. 50m")] = "50m"
    requests_memory: Annotated[Quantity, Field(description="memory request, e.g. 64Mi")] = "64Mi"
    limits_cpu: Annotated[Quantity, Field(description="CPU limit, e.g. 500m")] = "500m"
    limits_memory: Annotated[Quantity, Field(description="memory limit, e.g. 256Mi")] = "256Mi"


class ImageSettings(SettingsModel):
    """The app image: built with BuildKit and pushed, or already pushed by CI (prebuilt)."""

    registry: RegistryHost = "registry.example.com"
    repository: Annotated[
        str | None,
        Field(
            pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$",
            description="repository path in the registry, e.g. platform/tasks; "
            "<team>/<service> when omitted",
        ),
    ] = None
    prebuilt: Annotated[
        bool,
        Field(
            description="true when CI already pushed draft-<slug>-<sha7>: no build, only a reference"
        ),
    ] = False
    context: Annotated[
        str, Field(min_length=1, description="build context directory, relative to the project")
    ] = "examples/draft-app"
    dockerfile: Annotated[
        str, Field(min_length=1, description="Dockerfile path inside the build context")
    ] = "Dockerfile"
    platform: Annotated[
        str,
        Field(pattern=r"^[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?$", description="e.g. linux/amd64"),
    ] = "linux/amd64"
    build_args: Annotated[
        dict[EnvName, str],
        Field(description="Docker build arguments (no secrets: they stay in the image)"),
    ] = {}
    run_as_user: Annotated[
        int, Field(ge=1, le=2147483647, description="the image's non-root numeric user id")
    ] = 10001


class DatabaseSettings(SettingsModel):
    """The draft's own PostgreSQL, or an external database whose URL is a secret."""

    mode: Annotated[
        Literal["statefulset", "external"],
        Field(
            description="statefulset (a dedicated PostgreSQL in the namespace) or external "
            "(URL from draft:secrets)"
        ),
    ] = "statefulset"
    image: Annotated[ImageRef, Field(description="PostgreSQL image, pinned")] = (
        "postgres:16.4-alpine"
    )
    run_as_user: Annotated[
        int, Field(ge=1, le=2147483647, description="uid of the postgres user in the image")
    ] = 70
    storage: Annotated[Quantity, Field(description="volume size, e.g. 1Gi")] = "1Gi"
    storage_class: Annotated[
        str | None,
        Field(description="StorageClass of the volume; the cluster default when omitted"),
    ] = None
    name: Annotated[
        str,
        Field(pattern=r"^[a-z][a-z0-9_]{0,30}$", description="database and user name, e.g. app"),
    ] = "app"
    url_secret_key: Annotated[
        SecretKey,
        Field(description="key in draft:secrets holding the external database URL (mode external)"),
    ] = "databaseUrl"
    resources: Resources = Resources(
        requests_cpu="100m", requests_memory="256Mi", limits_cpu="1", limits_memory="512Mi"
    )


class MigrationSettings(SettingsModel):
    """The Job that migrates the draft database before the app is released."""

    enabled: Annotated[bool, Field(description="run migrations before the release")] = True
    skip: Annotated[
        bool,
        Field(
            description="true on a rollback deploy (envctl draft up sets it): the last good "
            "release comes back, the database stays as the newer commit migrated it"
        ),
    ] = False
    command: Annotated[
        tuple[Annotated[str, Field(min_length=1)], ...],
        Field(
            min_length=1,
            description="command run in the app image, e.g. ['alembic', 'upgrade', 'head'] "
            "or ['npx', 'prisma', 'migrate', 'deploy']",
        ),
    ] = ("alembic", "upgrade", "head")
    timeout_seconds: Annotated[
        int, Field(ge=30, le=3600, description="seconds the Job may run, 30 to 3600")
    ] = 600
    backoff_limit: Annotated[
        int, Field(ge=0, le=5, description="retries after a failed attempt, 0 to 5")
    ] = 1
    resources: Resources = Resources()


class ChartSettings(SettingsModel):
    """The app's Helm chart: a local path, a chart repository, or an OCI reference."""

    path: Annotated[
        str | None,
        Field(description="chart directory relative to the project, e.g. charts/app"),
    ] = "charts/app"
    repository: Annotated[
        str | None,
        Field(pattern=r"^https://[^\s/]+(/\S*)?$", description="chart repository URL, https://..."),
    ] = None
    name: Annotated[
        str | None,
        Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="chart name in the repository"),
    ] = None
    oci: Annotated[
        str | None,
        Field(
            pattern=r"^oci://[^\s/]+/\S+$", description="OCI chart reference, oci://host/path/chart"
        ),
    ] = None
    version: Annotated[
        str | None, Field(pattern=r"^[0-9A-Za-z.+-]+$", description="chart version, e.g. 1.4.2")
    ] = None
    values_file: Annotated[
        str, Field(min_length=1, description="base values of every draft, relative to the project")
    ] = "values/draft.yaml"
    values: Annotated[
        dict[str, Any],
        Field(description="values laid over the values file (computed values win over both)"),
    ] = {}
    timeout_seconds: Annotated[
        int, Field(ge=60, le=3600, description="seconds Helm waits for readiness, 60 to 3600")
    ] = 600
    service_port: Annotated[
        int, Field(ge=1, le=65535, description="port of the chart's Service")
    ] = 80

    @model_validator(mode="after")
    def _one_source(self) -> ChartSettings:
        if self.oci is None and self.repository is not None and self.name is None:
            raise ValueError("chart.repository needs chart.name (the chart in that repository)")
        if self.oci is None and self.repository is None and self.path is None:
            raise ValueError("set chart.path, chart.repository with chart.name, or chart.oci")
        return self

    @property
    def source(self) -> Literal["oci", "repository", "path"]:
        """Where the chart comes from: OCI wins over a repository, which wins over a path."""
        if self.oci is not None:
            return "oci"
        return "repository" if self.repository is not None else "path"


class QuotaSettings(SettingsModel):
    """The namespace's ResourceQuota: what all the draft's workloads may use together."""

    requests_cpu: Annotated[Quantity, Field(description="total CPU requests")] = "4"
    requests_memory: Annotated[Quantity, Field(description="total memory requests")] = "8Gi"
    limits_cpu: Annotated[Quantity, Field(description="total CPU limits")] = "8"
    limits_memory: Annotated[Quantity, Field(description="total memory limits")] = "16Gi"
    pods: Annotated[int, Field(ge=1, le=500, description="pods at most, 1 to 500")] = 40
    persistent_volume_claims: Annotated[
        int, Field(ge=0, le=20, description="volume claims at most, 0 to 20")
    ] = 4
    requests_storage: Annotated[Quantity, Field(description="total storage requests")] = "10Gi"


class LimitSettings(SettingsModel):
    """The namespace's LimitRange: defaults and maxima of every container."""

    default_cpu: Annotated[Quantity, Field(description="CPU limit of containers without one")] = (
        "500m"
    )
    default_memory: Annotated[
        Quantity, Field(description="memory limit of containers without one")
    ] = "512Mi"
    default_request_cpu: Annotated[
        Quantity, Field(description="CPU request of containers without one")
    ] = "50m"
    default_request_memory: Annotated[
        Quantity, Field(description="memory request of containers without one")
    ] = "64Mi"
    max_cpu: Annotated[Quantity, Field(description="largest CPU limit of one container")] = "2"
    max_memory: Annotated[Quantity, Field(description="largest memory limit of one container")] = (
        "2Gi"
    )


class Port(SettingsModel):
    """A port a draft may reach."""

    port: Annotated[int, Field(ge=1, le=65535, description="port number")]
    protocol: Annotated[Literal["TCP", "UDP"], Field(description="TCP or UDP")] = "TCP"


class EgressTarget(SettingsModel):
    """Something outside the namespace the draft's pods may reach: a namespace or CIDRs."""

    name: Annotated[ObjectName, Field(description="what it is, e.g. vault or registry")]
    namespace: Annotated[
        NamespaceName | None, Field(description="an in-cluster namespace, e.g. vault")
    ] = None
    pod_labels: Annotated[
        dict[str, str], Field(description="only pods with these labels in that namespace")
    ] = {}
    cidrs: Annotated[
        tuple[str, ...],
        Field(description="IP blocks outside the cluster's pod network, e.g. 192.0.2.10/32"),
    ] = ()
    ports: Annotated[tuple[Port, ...], Field(min_length=1, description="ports, e.g. [{port: 443}]")]

    @model_validator(mode="after")
    def _one_kind(self) -> EgressTarget:
        if (self.namespace is None) == (not self.cidrs):
            raise ValueError("set either namespace or cidrs (exactly one)")
        if self.namespace is not None and not self.pod_labels:
            raise ValueError("a namespace target needs podLabels (the pods there it may reach)")
        _ip_networks(self.cidrs, "cidrs")
        return self


class NodeLocalDns(SettingsModel):
    """NodeLocal DNSCache: pods ask a cache on their own node at a link-local address."""

    enabled: Annotated[
        bool, Field(description="the cluster runs NodeLocal DNSCache: allow DNS to its address")
    ] = False
    address: Annotated[
        str,
        Field(
            pattern=r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$",
            description="the cache's IPv4 address on every node (its -localip)",
        ),
    ] = "169.254.20.10"


class NetworkSettings(SettingsModel):
    """NetworkPolicies: default deny, then only what a draft needs."""

    ingress_controller_namespace: Annotated[
        NamespaceName, Field(description="namespace of the ingress controller")
    ] = "ingress-nginx"
    ingress_controller_pod_labels: Annotated[
        dict[str, str],
        Field(min_length=1, description="labels of the ingress controller's pods"),
    ] = {"app.kubernetes.io/name": "ingress-nginx"}
    ingress_controller_node_cidrs: Annotated[
        tuple[str, ...],
        Field(
            description="the nodes' IP ranges, for an ingress controller on the host network "
            "(hostNetwork: true), whose traffic comes from its node's address"
        ),
    ] = ()
    app_port: Annotated[
        PodPort,
        Field(description="the app pods' port the ingress controller and the smoke test reach"),
    ] = "http"
    dns_namespace: Annotated[NamespaceName, Field(description="namespace of cluster DNS")] = (
        "kube-system"
    )
    dns_pod_labels: Annotated[
        dict[str, str], Field(min_length=1, description="labels of the cluster DNS pods")
    ] = {"k8s-app": "kube-dns"}
    node_local_dns: NodeLocalDns = NodeLocalDns()
    monitoring_namespace: Annotated[
        NamespaceName | None,
        Field(description="namespace allowed to scrape the draft when monitoring is on"),
    ] = "monitoring"
    monitoring_pod_labels: Annotated[
        dict[str, str],
        Field(min_length=1, description="labels of the Prometheus pods that scrape the app"),
    ] = {"app.kubernetes.io/name": "prometheus"}
    metrics_port: Annotated[PodPort, Field(description="the app pods' port Prometheus scrapes")] = (
        "http"
    )
    egress: Annotated[
        tuple[EgressTarget, ...],
        Field(description="what pods may reach besides DNS and their own namespace"),
    ] = ()
    forbidden_namespaces: Annotated[
        tuple[NamespaceName, ...],
        Field(description="namespaces a draft may never reach or be reached from"),
    ] = ("dev", "develop", "stage", "staging", "prod", "production")
    pod_network_cidrs: Annotated[
        tuple[str, ...],
        Field(description="the cluster's pod CIDRs: egress cidrs may not overlap them"),
    ] = ()

    @model_validator(mode="after")
    def _isolated(self) -> NetworkSettings:
        forbidden = set(self.forbidden_namespaces)
        if self.ingress_controller_namespace in forbidden:
            raise ValueError("ingressControllerNamespace is one of forbiddenNamespaces")
        if self.monitoring_namespace in forbidden:
            raise ValueError("monitoringNamespace is one of forbiddenNamespaces")
        _ip_networks(self.ingress_controller_node_cidrs, "ingressControllerNodeCidrs")
        pods = _ip_networks(self.pod_network_cidrs, "podNetworkCidrs")
        names = [target.name for target in self.egress]
        if len(names) != len(set(names)):
            raise ValueError("egress names must be unique")
        for target in self.egress:
            if target.namespace in forbidden:
                raise ValueError(f"egress {target.name} targets a forbidden namespace")
            for cidr in target.cidrs:
                block = ipaddress.ip_network(cidr)
                if any(block.version == p.version and block.overlaps(p) for p in pods):
                    raise ValueError(f"egress {target.name} overlaps the pod network")
        return self


class MockService(SettingsModel):
    """A stand-in for an external integration, run in the draft's namespace."""

    name: Annotated[ObjectName, Field(description="service name, e.g. payments-mock")]
    image: ImageRef
    port: Annotated[int, Field(ge=1, le=65535, description="port it listens on")]
    run_as_user: Annotated[
        int, Field(ge=1, le=2147483647, description="the image's non-root numeric user id")
    ] = 65532
    env: Annotated[
        dict[EnvName, str], Field(description="plain settings (no secrets: use Vault for those)")
    ] = {}
    resources: Resources = Resources(limits_cpu="200m", limits_memory="128Mi")


class SmokeSettings(SettingsModel):
    """scripts/smoke_draft.sh run as a Job after the release."""

    enabled: Annotated[bool, Field(description="run the smoke test after every release")] = True
    image: Annotated[ImageRef, Field(description="image with sh and curl, pinned")] = (
        "curlimages/curl:8.11.1"
    )
    run_as_user: Annotated[int, Field(ge=1, le=2147483647, description="its non-root uid")] = 100
    base_url: Annotated[
        str | None,
        Field(
            pattern=r"^https?://[^\s/]+(/\S*)?$",
            description="URL of a Service in the draft's namespace (its NetworkPolicies block "
            "the public URL); the release's in-cluster Service when omitted",
        ),
    ] = None
    health_path: Annotated[ApiPath, Field(description="readiness endpoint")] = "/healthz"
    login_path: Annotated[ApiPath, Field(description="login endpoint")] = "/api/auth/login"
    tasks_path: Annotated[ApiPath, Field(description="task collection endpoint")] = "/api/tasks"
    sync_path: Annotated[ApiPath, Field(description="offline sync endpoint")] = "/api/sync"
    username_key: Annotated[
        SecretKey, Field(description="key of the smoke user's name in the Vault secret")
    ] = "smokeUsername"
    password_key: Annotated[
        SecretKey, Field(description="key of the smoke user's password in the Vault secret")
    ] = "smokePassword"
    timeout_seconds: Annotated[
        int, Field(ge=30, le=1800, description="seconds the Job may run, 30 to 1800")
    ] = 300
    resources: Resources = Resources(limits_cpu="200m", limits_memory="64Mi")


class MonitoringSettings(SettingsModel):
    """Alerts for the draft, shared with Dev but filtered by namespace."""

    enabled: Annotated[bool, Field(description="create a PrometheusRule for this draft")] = False
    interval: Annotated[Duration, Field(description="rule evaluation interval")] = "5m"
    rule_labels: Annotated[
        dict[str, str],
        Field(
            description="labels the Prometheus ruleSelector matches; kube-prometheus-stack's "
            "default selects release: <its Helm release>"
        ),
    ] = {"release": "kube-prometheus-stack"}
    error_ratio_threshold: Annotated[
        float,
        Field(
            gt=0,
            lt=1,
            description="share of requests answered 5xx (above 0, below 1) over which DraftHigh5xxRate fires "
            "and envctl draft up --watch rolls the release back, e.g. 0.05",
        ),
    ] = 0.05
    error_window: Annotated[
        Duration, Field(description="window of the alert's 5xx ratio (and the watch's longest)")
    ] = "5m"


class ExternalSecretsSettings(SettingsModel):
    """External Secrets Operator objects that sync Vault secrets into the namespace."""

    services: Annotated[
        tuple[PathSegment, ...] | None,
        Field(
            description="services whose draft/<team>/<service> is synced; [service] when omitted"
        ),
    ] = None
    refresh_interval: Annotated[Duration, Field(description="how often values are re-read")] = "15m"
    env: Annotated[
        dict[PathSegment, dict[EnvName, SecretKey]],
        Field(
            description="what the app reads, per service: environment variable -> key of "
            "draft/<team>/<service>, e.g. {tasks: {API_KEY: apiKey}}; only these keys reach "
            "its pods"
        ),
    ] = {}
    registry_pull_path: Annotated[
        Annotated[
            str,
            Field(
                pattern=r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?(/[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?)+$"
            ),
        ]
        | None,
        BeforeValidator(lambda value: None if value == "" else value),
        Field(
            description="Vault path under kvMount of read-only registry pull credentials, e.g. "
            "platform/registry-pull; nodes pull with their own credentials when omitted or empty",
        ),
    ] = None
    username_key: Annotated[
        SecretKey,
        Field(
            description="key of the registry user (draft:secrets for the push, registryPullPath)"
        ),
    ] = "registryUsername"
    password_key: Annotated[
        SecretKey,
        Field(
            description="key of the registry password (draft:secrets for the push, "
            "registryPullPath)"
        ),
    ] = "registryPassword"


class IngressSettings(SettingsModel):
    """How the draft is exposed: https://<slug>-<owner>.<baseDomain> behind the ingress controller."""

    class_name: Annotated[ObjectName, Field(description="IngressClass, e.g. nginx")] = "nginx"
    tls_secret_name: Annotated[
        ObjectName | None,
        Field(
            description="TLS Secret in the namespace; omitted: the controller's default "
            "(one wildcard certificate for *.<baseDomain>)"
        ),
    ] = None


class DraftSettings(SettingsModel):
    """Settings of one draft environment (config namespace ``draft:``)."""

    # Kept secret when set with --secret: the map itself, the Helm values (chart.values) and
    # the build arguments (image.buildArgs). Any other secret draft: key is refused.
    secret_carriers: ClassVar[frozenset[str] | None] = frozenset({"secrets", "chart", "image"})

    team: Annotated[PathSegment, Field(description="owning team, used in draft/<team>/<service>")]
    service: Annotated[
        PathSegment, Field(description="service name, used in draft/<team>/<service>")
    ]
    base_domain: Annotated[
        DnsName, Field(description="drafts are served at <slug>-<owner>.<baseDomain>")
    ]
    branch: Annotated[
        str | None,
        Field(
            description="git branch, e.g. feature/login; derived from the stack name when omitted"
        ),
    ] = None
    sha: Annotated[
        str | None,
        Field(
            description="commit id being deployed, 7-64 hex characters (envctl draft up sets it)"
        ),
    ] = None
    deployed_at: Annotated[
        datetime | None,
        Field(
            description="ISO 8601 time of this deploy, e.g. 2026-11-22T12:00:00Z (envctl draft up "
            "sets it on every deploy; the program never reads the clock)"
        ),
    ] = None
    ttl_hours: Annotated[
        int,
        Field(
            ge=1, le=MAX_TTL_HOURS, description="hours a draft lives after its last deploy, 1 to 48"
        ),
    ] = MAX_TTL_HOURS
    expires_at: Annotated[
        datetime | None,
        Field(
            description="ISO 8601 time the draft expires, after deployedAt and at most 48 h "
            "after it; deployedAt + ttlHours when omitted"
        ),
    ] = None
    branch_prefixes: Annotated[
        tuple[str, ...],
        Field(description="branch prefixes that get drafts, e.g. ['feature/', 'bugfix/']"),
    ] = DEFAULT_PREFIXES
    vault: VaultSettings = VaultSettings()
    secrets: Annotated[
        dict[SecretKey, SecretStr],
        Field(
            description="secret config (pulumi config set --secret, set by envctl draft up from "
            "Vault): a JSON object of names to values Pulumi needs at deploy time, e.g. "
            "registryUsername, registryPassword, databaseUrl"
        ),
    ] = {}
    image: ImageSettings = ImageSettings()
    database: DatabaseSettings = DatabaseSettings()
    migrations: MigrationSettings = MigrationSettings()
    chart: ChartSettings = ChartSettings()
    quota: QuotaSettings = QuotaSettings()
    limits: LimitSettings = LimitSettings()
    network: NetworkSettings = NetworkSettings()
    mocks: Annotated[
        tuple[MockService, ...],
        Field(
            max_length=MAX_MOCK_SERVICES,
            description=f"mock services, at most {MAX_MOCK_SERVICES}: [{{name, image, port}}]",
        ),
    ] = ()
    smoke: SmokeSettings = SmokeSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    external_secrets: ExternalSecretsSettings = ExternalSecretsSettings()
    ingress: IngressSettings = IngressSettings()

    @model_validator(mode="after")
    def _consistent(self) -> DraftSettings:
        names = [mock.name for mock in self.mocks]
        if len(names) != len(set(names)):
            raise ValueError("mock service names must be unique")
        if set(names) & RESERVED_NAMES:
            raise ValueError(f"mock service names must not be one of {sorted(RESERVED_NAMES)}")
        return self

    def names(self) -> DraftNames:
        """Stack, namespace, release and image tag of this draft (branch and sha resolved)."""
        assert self.branch is not None and self.sha is not None, "resolve_draft() first"
        return names_for(
            self.branch, self.sha, self.branch_prefixes, team=self.team, service=self.service
        )

    @property
    def expiry(self) -> datetime:
        """When this draft expires: the explicit ``expiresAt`` or ``deployedAt + ttlHours``."""
        assert self.deployed_at is not None, "resolve_draft() first"
        return self.expires_at or self.deployed_at + timedelta(hours=self.ttl_hours)

    def secret(self, key: str) -> str | None:
        """The plain value of ``draft:secrets.<key>`` (wrap it in Output.secret), or None."""
        value = self.secrets.get(key)
        return None if value is None else value.get_secret_value()

    @property
    def vault_services(self) -> tuple[str, ...]:
        """Services whose ``<team>/<service>`` Vault secret the draft may read."""
        return self.external_secrets.services or (self.service,)

    @property
    def vault_role(self) -> str:
        """The Kubernetes auth role the draft's SecretStore logs in with."""
        return self.vault.role or vault_names(self.team, self.service).draft_role


# Object names the environment itself uses in the namespace (mock services may not take them).
RESERVED_NAMES = frozenset({"db", "smoke", "vault", "registry-pull"})


def branch_for_stack(stack: str, prefixes: tuple[str, ...]) -> str | None:
    """The canonical branch whose draft stack is ``stack`` (None when it has a hashed slug)."""
    slug = stack.removeprefix("draft-")
    head, _, rest = slug.partition("-")
    candidate = f"{head}/{rest}"
    try:
        return candidate if names_for(candidate, None, prefixes).stack == stack else None
    except NamingError:
        return None


def _check_secrets(settings: DraftSettings) -> None:
    """Secrets that must come in pairs or are required by another setting."""
    user, password = (
        settings.external_secrets.username_key,
        settings.external_secrets.password_key,
    )
    if (user in settings.secrets) != (password in settings.secrets):
        raise ConfigError(
            f"draft:secrets has only one of {user} and {password} "
            "(expected: both, for the registry push, or neither to use the CI's docker login)"
        )
    key = settings.database.url_secret_key
    if settings.database.mode == "external" and key not in settings.secrets:
        raise ConfigError(
            f"draft:secrets.{key} is required but not set (expected: the external database URL "
            "as secret config, because draft:database.mode is external)"
        )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def resolve_draft(settings: DraftSettings, stack: str) -> DraftSettings:
    """Fill branch, check branch, sha, prefixes and times fit ``stack``; ConfigError if not.

    Reads neither the clock nor git: the same config gives the same settings. The expiry is
    checked against ``deployedAt`` (structure); that it has not passed is the reapers' job.
    """
    try:
        prefixes = validate_prefixes(settings.branch_prefixes)
    except NamingError as exc:
        raise ConfigError(f"draft:{exc}") from None
    branch = settings.branch or branch_for_stack(stack, prefixes)
    if branch is None:
        raise ConfigError(
            f"draft:branch is required but not set (expected: the git branch of stack {stack}, "
            "e.g. feature/login; only stacks of plain lowercase branch names can do without it)"
        )
    sha = settings.sha
    if sha is None:
        raise ConfigError(
            "draft:sha is required but not set (expected: the commit id being deployed, "
            "7-64 hex characters; envctl draft up sets it)"
        )
    try:
        names = names_for(branch, sha, prefixes)
        short_sha(sha)
    except NamingError as exc:
        raise ConfigError(f"draft:{exc}") from None
    if names.stack != stack:
        raise ConfigError(
            f"draft:branch belongs to stack {names.stack}, not {stack} "
            f"(expected: run it as 'pulumi up --stack {names.stack}')"
        )
    if settings.deployed_at is None:
        raise ConfigError(
            "draft:deployedAt is required but not set (expected: the ISO 8601 time of this "
            "deploy, e.g. 2026-11-22T12:00:00Z; envctl draft up sets it on every deploy)"
        )
    deployed = _utc(settings.deployed_at)
    expires = None if settings.expires_at is None else _utc(settings.expires_at)
    if expires is not None and not deployed < expires <= deployed + timedelta(hours=MAX_TTL_HOURS):
        raise ConfigError(
            "draft:expiresAt is invalid (expected: an ISO 8601 time after draft:deployedAt, "
            f"at most {MAX_TTL_HOURS} hours after it)"
        )
    settings = settings.model_copy(update={"deployed_at": deployed, "expires_at": expires})
    _check_secrets(settings)
    return settings.model_copy(update={"branch": branch, "sha": sha.strip().lower()})


def load_draft_settings(
    stack: str,
    project_dir: Path,
    config: dict[str, Any] | None = None,
    secret_keys: Iterable[str] = (),
) -> DraftSettings:
    """Validated, resolved settings of draft stack ``stack``.

    The runtime's config by default; or ``config`` with its ``secret_keys`` (full keys).
    """
    settings = load_settings(
        DraftSettings, "draft", "draft", project_dir, config, secret_keys=secret_keys
    )
    return resolve_draft(settings, stack)
