"""The draft database: a dedicated PostgreSQL with a password made in the cluster, or an external URL.

Either way the app, the migrations and the chart read one Secret, ``db``, whose ``url`` key is
the connection URL. A dedicated database's password never enters Pulumi: an External Secrets
``Password`` generator makes it in the cluster, and an ExternalSecret with
``refreshInterval: "0"`` renders it once into ``db`` (``username``, ``password``, ``url``). Its
spec never changes between deploys (a changed spec would generate a new password that the
initialised volume does not know). An external URL comes from ``draft:secrets`` as a Pulumi
secret.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes.apiextensions as apiextensions
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from components.draft.blueprint import DB_NAME, DB_URL_KEY, DraftBlueprint
from components.draft.secrets_sync import ESO_API, await_ready
from components.draft.workload import (
    container_security,
    metadata,
    pod_security,
    resources,
    scratch_volume,
    secret,
)

PORT = 5432
DATA_DIR = "/var/lib/postgresql/data"
GENERATOR_API = "generators.external-secrets.io/v1alpha1"
PASSWORD_GENERATOR = "db-password"
PASSWORD_LENGTH = 32


@dataclass(frozen=True)
class DraftDatabase:
    """The ``db`` Secret (or the ExternalSecret that makes it) and what serves the database."""

    secret: core.Secret | apiextensions.CustomResource
    password: apiextensions.CustomResource | None = None
    claim: core.PersistentVolumeClaim | None = None
    stateful_set: apps.StatefulSet | None = None
    service: core.Service | None = None

    @property
    def ready(self) -> list[pulumi.Resource]:
        """What must be ready before migrations run: the Secret, and a serving database."""
        return [r for r in (self.secret, self.stateful_set, self.service) if r is not None]


def _external(
    name: str, plan: DraftBlueprint, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> DraftDatabase:
    settings = plan.settings
    url = settings.secret(settings.database.url_secret_key)
    assert url is not None, "resolve_draft() checks the URL is set"
    db_secret = core.Secret(
        f"{name}-db-secret",
        metadata=metadata(DB_NAME, namespace, plan.object_labels("database")),
        type="Opaque",
        string_data={DB_URL_KEY: secret(url)},
        opts=opts,
    )
    return DraftDatabase(db_secret)


def _generated_secret(
    name: str, plan: DraftBlueprint, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> tuple[apiextensions.CustomResource, apiextensions.CustomResource]:
    """The Password generator and the ExternalSecret that renders Secret ``db`` from it once."""
    user = plan.settings.database.name
    labels = plan.object_labels("database")
    generator = apiextensions.CustomResource(
        f"{name}-db-password",
        api_version=GENERATOR_API,
        kind="Password",
        metadata=metadata(PASSWORD_GENERATOR, namespace, labels),
        # Letters and digits only: the password goes into the URL unescaped.
        spec={
            "length": PASSWORD_LENGTH,
            "digits": 8,
            "symbols": 0,
            "noUpper": False,
            "allowRepeat": True,
        },
        opts=opts,
    )
    host = f"{DB_NAME}.{plan.namespace}.svc.cluster.local"
    db_secret = apiextensions.CustomResource(
        f"{name}-db-secret",
        api_version=ESO_API,
        kind="ExternalSecret",
        metadata=metadata(DB_NAME, namespace, labels, await_ready()),
        spec={
            "refreshInterval": "0",  # generated once, never rotated under the running database
            "target": {
                "name": DB_NAME,
                "creationPolicy": "Owner",
                "template": {
                    "engineVersion": "v2",
                    "type": "Opaque",
                    "metadata": {"labels": labels},
                    "data": {
                        "username": user,
                        "password": "{{ .password }}",
                        DB_URL_KEY: f"postgresql://{user}:{{{{ .password }}}}@{host}:{PORT}/{user}",
                    },
                },
            },
            "dataFrom": [
                {
                    "sourceRef": {
                        "generatorRef": {
                            "apiVersion": GENERATOR_API,
                            "kind": "Password",
                            "name": PASSWORD_GENERATOR,
                        }
                    }
                }
            ],
        },
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[generator])),
    )
    return generator, db_secret


def create_database(
    name: str,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> DraftDatabase:
    """The database of ``plan``; ``opts`` carry the parent and the namespace dependencies."""
    if plan.settings.database.mode == "external":
        return _external(name, plan, namespace, opts)
    settings = plan.settings.database
    labels = plan.object_labels("database")
    selector = plan.selector(DB_NAME)
    password, db_secret = _generated_secret(name, plan, namespace, opts)
    claim = core.PersistentVolumeClaim(
        f"{name}-db-data",
        metadata=metadata(f"{DB_NAME}-data", namespace, labels),
        spec=core.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            storage_class_name=settings.storage_class,
            resources=core.VolumeResourceRequirementsArgs(requests={"storage": settings.storage}),
        ),
        opts=opts,
    )
    is_ready = core.ExecActionArgs(
        command=["pg_isready", "-h", "127.0.0.1", "-U", settings.name, "-d", settings.name]
    )
    ready_probe = core.ProbeArgs(
        exec_=is_ready,
        initial_delay_seconds=5,
        period_seconds=5,
        timeout_seconds=3,
        failure_threshold=6,
    )
    stateful_set = apps.StatefulSet(
        f"{name}-db",
        metadata=metadata(DB_NAME, namespace, labels),
        spec=apps.StatefulSetSpecArgs(
            service_name=DB_NAME,
            replicas=1,
            selector=meta.LabelSelectorArgs(match_labels=selector),
            template=core.PodTemplateSpecArgs(
                metadata=meta.ObjectMetaArgs(labels={**labels, **selector}),
                spec=core.PodSpecArgs(
                    automount_service_account_token=False,
                    security_context=pod_security(settings.run_as_user),
                    containers=[
                        core.ContainerArgs(
                            name="postgres",
                            image=settings.image,
                            ports=[core.ContainerPortArgs(name="postgres", container_port=PORT)],
                            env=[
                                core.EnvVarArgs(name="POSTGRES_USER", value=settings.name),
                                core.EnvVarArgs(name="POSTGRES_DB", value=settings.name),
                                core.EnvVarArgs(name="PGDATA", value=f"{DATA_DIR}/pgdata"),
                                core.EnvVarArgs(
                                    name="POSTGRES_PASSWORD",
                                    value_from=core.EnvVarSourceArgs(
                                        secret_key_ref=core.SecretKeySelectorArgs(
                                            name=DB_NAME, key="password"
                                        )
                                    ),
                                ),
                            ],
                            readiness_probe=ready_probe,
                            liveness_probe=core.ProbeArgs(
                                exec_=is_ready,
                                initial_delay_seconds=30,
                                period_seconds=10,
                                timeout_seconds=3,
                                failure_threshold=6,
                            ),
                            resources=resources(settings.resources),
                            security_context=container_security(read_only_root=True),
                            volume_mounts=[
                                core.VolumeMountArgs(name="data", mount_path=DATA_DIR),
                                core.VolumeMountArgs(name="run", mount_path="/var/run/postgresql"),
                                core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                            ],
                        )
                    ],
                    volumes=[
                        core.VolumeArgs(
                            name="data",
                            persistent_volume_claim=core.PersistentVolumeClaimVolumeSourceArgs(
                                claim_name=f"{DB_NAME}-data"
                            ),
                        ),
                        scratch_volume("run"),
                        scratch_volume("tmp"),
                    ],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[claim, db_secret])
        ),
    )
    service = core.Service(
        f"{name}-db-service",
        metadata=metadata(DB_NAME, namespace, labels),
        spec=core.ServiceSpecArgs(
            type="ClusterIP",
            selector=selector,
            ports=[core.ServicePortArgs(name="postgres", port=PORT, target_port="postgres")],
        ),
        opts=opts,
    )
    return DraftDatabase(db_secret, password, claim, stateful_set, service)
