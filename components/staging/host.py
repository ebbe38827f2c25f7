"""StagingHost: the staging server's compose stack, deployed and validated over SSH.

The command chain (each a pulumi-command ``remote.Command``, child of the component):

    preflight -> checkout -> env, override, teardown -> deploy -> pull-agent

``deploy`` activates the commit, waits for health, validates, and rolls back or tears
down on failure, atomically from Pulumi's point of view. ``teardown`` owns ``pulumi
destroy``. Triggers are digests of rendered text, so an unchanged ``pulumi up`` runs
nothing, and a changed secret, override or ref re-runs only what depends on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi_command import remote

from components.staging import commands
from components.staging.override import render_override
from components.staging.render import digest
from components.staging.secrets import StagingSecrets, staging_secrets
from components.staging.settings import StagingSettings

TYPE = "environments:staging:StagingHost"


def dns_records(settings: StagingSettings) -> list[dict[str, Any]]:
    """The A records the plan needs: name, type and the address they must point at."""
    return [
        {"name": name, "type": "A", "value": settings.resolved_public_ip}
        for name in settings.dns_names
    ]


class StagingHost(pulumi.ComponentResource):
    """The staging Docker Compose host: preflight, checkout, secrets, deploy, pull-agent."""

    secrets: StagingSecrets
    preflight: remote.Command
    checkout: remote.Command
    env: remote.Command
    override: remote.Command
    teardown: remote.Command
    deploy: remote.Command
    pull_agent: remote.Command | None
    url: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]
    commit: pulumi.Output[str]
    dns: pulumi.Output[list[dict[str, Any]]]

    def __init__(
        self, name: str, settings: StagingSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        self._name = name
        self._connection = remote.ConnectionArgs(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            host_key=settings.host_key,
            private_key=(
                pulumi.Output.secret(settings.ssh_private_key.get_secret_value())
                if settings.ssh_private_key
                else None
            ),
        )
        self.secrets = staging_secrets(name, settings, self)
        s = settings

        self.preflight = self._command("preflight", commands.preflight(s))
        self.checkout = self._command(
            "checkout",
            commands.checkout(s),
            stdin=self.secrets.git_token.apply(commands.stdin_line),
            depends_on=[self.preflight],
        )
        self.env = self._command(
            "env",
            commands.install_file(s, commands.staged_env_path(s), "600"),
            stdin=self.secrets.env_file,
            depends_on=[self.checkout],
        )
        override_text = render_override(s)
        self.override = self._command(
            "override",
            commands.install_file(s, commands.staged_override_path(s), "644"),
            stdin=override_text,
            depends_on=[self.checkout],
        )
        self.teardown = self._command(
            "teardown",
            commands.teardown_arm(s),
            delete=commands.teardown(s),
            depends_on=[self.checkout],
            delete_before_replace=True,
        )
        release_inputs: list[Any] = [
            pulumi.Output.secret(self.secrets.env_file.apply(digest)),
            digest(override_text),
        ]
        commit = self.checkout.stdout.apply(commands.parse_commit)
        self.deploy = self._command(
            "deploy",
            commit.apply(lambda c: commands.deploy(s, c)),
            stdin=self.secrets.dashboard_password.apply(commands.stdin_line),
            triggers=release_inputs,
            depends_on=[self.env, self.override, self.teardown],
        )
        self.pull_agent = None
        if s.pull_agent:
            self.pull_agent = self._command(
                "pull-agent",
                commands.pull_agent(s),
                stdin=self.secrets.git_token.apply(commands.stdin_line),
                delete=commands.pull_agent_stop(s),
                triggers=[*release_inputs, self.deploy.stdout],
                depends_on=[self.deploy],
                delete_before_replace=True,
            )

        self.url = pulumi.Output.from_input(f"https://{s.app_host}")
        self.dashboard_url = pulumi.Output.from_input(f"https://{s.dashboard_host}")
        self.commit = self.deploy.stdout.apply(commands.parse_deployed)
        self.dns = pulumi.Output.from_input(dns_records(s))
        self.register_outputs(
            {
                "url": self.url,
                "dashboardUrl": self.dashboard_url,
                "commit": self.commit,
                "dnsRecords": self.dns,
            }
        )

    def _command(
        self,
        name: str,
        create: pulumi.Input[str],
        *,
        update: bool = True,
        stdin: pulumi.Input[str] | None = None,
        delete: str | None = None,
        triggers: Sequence[Any] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
        delete_before_replace: bool = False,
    ) -> remote.Command:
        """A remote command, child of this component, that never sends PULUMI_COMMAND_* env."""
        return remote.Command(
            f"{self._name}-{name}",
            connection=self._connection,
            create=create,
            update=create if update else None,
            delete=delete,
            stdin=stdin,
            triggers=list(triggers) if triggers else None,
            add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(depends_on),
                delete_before_replace=delete_before_replace,
            ),
        )
