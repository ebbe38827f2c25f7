"""PipelineBoundary: a draft pipeline writes only in its own team/service's draft namespaces.

Vault believes the cluster about which namespace a service account is in, so the boundary
between teams needs each pipeline to act in the cluster as its own identity, allowed to
write only in ``draft-*-<owner>`` namespaces: a pipeline with cluster-wide rights could
create another team's namespace and log in to Vault as that team. Pipelines are the users
whose name starts with ``platform:pipelines.usernamePrefix`` followed by their owner key
(``envctl name BRANCH --team T --json`` prints it): by default the service accounts
``ci-<owner>`` of namespace ``envctl-ci``. A ValidatingAdmissionPolicy refuses any of their
writes elsewhere, and any cluster-scoped write but their own drafts' namespaces. It narrows
writes only; what they may read is their RBAC's business (docs/platform.md).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes.admissionregistration.v1 as admission

from components.naming import DRAFT_PREFIX
from components.platform.admission import denying_policy

NAME = "draft-pipelines-own-namespaces"


def own_namespaces_only(username_prefix: str) -> admission.ValidatingAdmissionPolicySpecArgs:
    """Writes by users ``<username_prefix><owner>`` only in namespaces ``draft-*-<owner>``."""
    prefix = json.dumps(username_prefix)  # a CEL string literal
    return admission.ValidatingAdmissionPolicySpecArgs(
        failure_policy="Fail",
        match_constraints=admission.MatchResourcesArgs(
            resource_rules=[
                admission.NamedRuleWithOperationsArgs(
                    api_groups=["*"],
                    api_versions=["*"],
                    operations=["CREATE", "UPDATE", "DELETE", "CONNECT"],
                    resources=["*"],
                )
            ]
        ),
        match_conditions=[
            admission.MatchConditionArgs(
                name="a-draft-pipeline",
                expression=f"request.userInfo.username.startsWith({prefix})",
            )
        ],
        variables=[
            admission.VariableArgs(
                name="suffix",
                expression=f"'-' + request.userInfo.username.substring(size({prefix}))",
            ),
            admission.VariableArgs(
                name="target",
                expression="has(request.namespace) && request.namespace != '' ? request.namespace : "
                "(request.resource.group == '' && request.resource.resource == 'namespaces' "
                "? request.name : '')",
            ),
        ],
        validations=[
            admission.ValidationArgs(
                expression=f"variables.suffix.size() > 1 && "
                f"variables.target.startsWith('{DRAFT_PREFIX}') && "
                "variables.target.endsWith(variables.suffix)",
                message="a draft pipeline writes only in its own team/service's draft "
                "namespaces (draft-<slug>-<owner>)",
            )
        ],
    )


class PipelineBoundary(pulumi.ComponentResource):
    """The admission policy and its binding (Deny)."""

    def __init__(
        self,
        name: str,
        username_prefix: str,
        labels: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("environments:platform:PipelineBoundary", name, None, opts)
        denying_policy(name, NAME, own_namespaces_only(username_prefix), labels, self)
        self.register_outputs({})
