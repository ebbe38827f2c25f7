"""Jobs that gate a draft: migrations before the release, the smoke test after it.

pulumi-kubernetes awaits a Job until it completes (no ``skipAwait`` here), so a resource
that depends on a Job waits for it to succeed, and a failed Job fails the update. The
engine's error names the Job (``Job 'migrate-1a2b3c4' ... BackoffLimitExceeded`` or
``DeadlineExceeded``); the Job's ``environments.dev/logs`` annotation, and the info line the
program logs on it, say how to read its logs. The await timeout
(``pulumi.com/timeoutSeconds``) outlasts the Job's own deadline, so the Job's failure, not
a timeout, is what the update reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes.batch.v1 as batch
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from components.draft.blueprint import DB_NAME, DB_URL_KEY, SMOKE_SECRET, DraftBlueprint
from components.draft.secrets_sync import SMOKE_PASSWORD, SMOKE_USERNAME
from components.draft.workload import container_security, pod_security, resources, scratch_volume

AWAIT_SLACK_SECONDS = 120
SMOKE_SCRIPT_KEY = "smoke_draft.sh"
SMOKE_MOUNT = "/smoke"


def logs_hint(namespace: str, job: str) -> str:
    """The command that shows a Job's logs."""
    return f"kubectl -n {namespace} logs job/{job}"


def _job_annotations(plan: DraftBlueprint, job: str, timeout: int) -> dict[str, str]:
    return {
        "pulumi.com/timeoutSeconds": str(timeout + AWAIT_SLACK_SECONDS),
        # A Job that failed is replaced by the next `pulumi up` of the same inputs, instead of
        # being awaited (and failing) again.
        "pulumi.com/replaceUnready": "true",
        "environments.dev/logs": logs_hint(plan.namespace, job),
        "environments.dev/sha": plan.image_tag.rsplit("-", 1)[-1],
    }


def _job(
    resource_name: str,
    job: str,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    component: str,
    timeout: int,
    backoff_limit: int,
    run_as_user: int,
    container: core.ContainerArgs,
    volumes: list[core.VolumeArgs],
    pull_secrets: tuple[str, ...],
    opts: pulumi.ResourceOptions,
) -> batch.Job:
    labels = plan.object_labels(component)
    created = batch.Job(
        resource_name,
        metadata=meta.ObjectMetaArgs(
            name=job,
            namespace=namespace,
            labels=labels,
            annotations=_job_annotations(plan, job, timeout),
        ),
        spec=batch.JobSpecArgs(
            backoff_limit=backoff_limit,
            active_deadline_seconds=timeout,
            template=core.PodTemplateSpecArgs(
                metadata=meta.ObjectMetaArgs(labels=labels),
                spec=core.PodSpecArgs(
                    restart_policy="Never",
                    automount_service_account_token=False,
                    security_context=pod_security(run_as_user),
                    image_pull_secrets=[
                        core.LocalObjectReferenceArgs(name=name) for name in pull_secrets
                    ]
                    or None,
                    containers=[container],
                    volumes=volumes or None,
                ),
            ),
        ),
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                # Jobs are immutable: a changed Job of the same name is deleted, then re-run.
                delete_before_replace=True,
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{timeout + AWAIT_SLACK_SECONDS}s",
                    update=f"{timeout + AWAIT_SLACK_SECONDS}s",
                ),
            ),
        ),
    )
    pulumi.log.info(
        f"if Job {job} fails, read its logs with: {logs_hint(plan.namespace, job)}",
        resource=created,
    )
    return created


def create_migration_job(
    name: str,
    plan: DraftBlueprint,
    image: str,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> batch.Job:
    """``draft:migrations.command`` in the app image against the draft database.

    It gets the database URL and nothing else: not the app's secrets, not the smoke login.
    """
    settings = plan.settings.migrations
    job = f"migrate-{plan.image_tag.rsplit('-', 1)[-1]}"
    container = core.ContainerArgs(
        name="migrate",
        image=image,
        command=list(settings.command),
        env=[
            core.EnvVarArgs(
                name="DATABASE_URL",
                value_from=core.EnvVarSourceArgs(
                    secret_key_ref=core.SecretKeySelectorArgs(name=DB_NAME, key=DB_URL_KEY)
                ),
            )
        ],
        resources=resources(settings.resources),
        security_context=container_security(read_only_root=False),
        termination_message_policy="FallbackToLogsOnError",
    )
    return _job(
        f"{name}-migrations",
        job,
        plan,
        namespace,
        "migrations",
        settings.timeout_seconds,
        settings.backoff_limit,
        plan.settings.image.run_as_user,
        container,
        [],
        plan.pull_secrets,
        opts,
    )


def smoke_run_id(plan: DraftBlueprint) -> str:
    """Changes with every deploy (``draft:expiresAt`` is renewed), so each deploy re-runs it."""
    return hashlib.sha256(plan.expires.isoformat().encode()).hexdigest()[:6]


def create_smoke_job(
    name: str,
    plan: DraftBlueprint,
    script: core.ConfigMap,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> batch.Job:
    """scripts/smoke_draft.sh against the released app; its success gates the update."""
    settings = plan.settings.smoke
    sha7 = plan.image_tag.rsplit("-", 1)[-1]
    job = f"smoke-{sha7}-{smoke_run_id(plan)}"

    def from_secret(env: str, key: str) -> core.EnvVarArgs:
        return core.EnvVarArgs(
            name=env,
            value_from=core.EnvVarSourceArgs(
                secret_key_ref=core.SecretKeySelectorArgs(name=SMOKE_SECRET, key=key)
            ),
        )

    plain: Mapping[str, str] = {
        "BASE_URL": plan.smoke_base_url,
        "SMOKE_HEALTH_PATH": settings.health_path,
        "SMOKE_LOGIN_PATH": settings.login_path,
        "SMOKE_TASKS_PATH": settings.tasks_path,
        "SMOKE_SYNC_PATH": settings.sync_path,
    }
    container = core.ContainerArgs(
        name="smoke",
        image=settings.image,
        command=["sh", f"{SMOKE_MOUNT}/{SMOKE_SCRIPT_KEY}"],
        env=[core.EnvVarArgs(name=k, value=v) for k, v in plain.items()]
        + [
            from_secret("SMOKE_USERNAME", SMOKE_USERNAME),
            from_secret("SMOKE_PASSWORD", SMOKE_PASSWORD),
        ],
        resources=resources(settings.resources),
        security_context=container_security(read_only_root=True),
        termination_message_policy="FallbackToLogsOnError",
        volume_mounts=[
            core.VolumeMountArgs(name="script", mount_path=SMOKE_MOUNT, read_only=True),
            core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
        ],
    )
    volumes = [
        core.VolumeArgs(
            name="script",
            config_map=core.ConfigMapVolumeSourceArgs(
                name=script.metadata.apply(lambda m: m.name), default_mode=0o555
            ),
        ),
        scratch_volume("tmp"),
    ]
    return _job(
        f"{name}-smoke",
        job,
        plan,
        namespace,
        "smoke",
        settings.timeout_seconds,
        0,
        settings.run_as_user,
        container,
        volumes,
        (),  # a public curl image: no registry credentials
        opts,
    )


def smoke_script_config_map(
    name: str,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> core.ConfigMap:
    """The smoke script as a ConfigMap (it holds no credentials: those come from Vault)."""
    assert plan.smoke_script is not None
    return core.ConfigMap(
        f"{name}-smoke-script",
        metadata=meta.ObjectMetaArgs(
            name="smoke-script", namespace=namespace, labels=plan.object_labels("smoke")
        ),
        data={SMOKE_SCRIPT_KEY: plan.smoke_script},
        opts=opts,
    )


def smoke_result(status: object) -> str:
    """``passed``/``failed`` from a smoke Job's status; ``pending`` while it reports neither.

    Only a Job that reports a succeeded pod passed: an offline plan (no cluster, no status)
    or a Job that has not finished yet is ``pending``, never ``passed``.
    """

    def count(field: str) -> object:
        return status.get(field) if isinstance(status, Mapping) else getattr(status, field, None)

    succeeded, failed = count("succeeded"), count("failed")
    if isinstance(succeeded, int | float) and succeeded > 0:
        return "passed"
    if isinstance(failed, int | float) and failed > 0:
        return "failed"
    return "pending"
