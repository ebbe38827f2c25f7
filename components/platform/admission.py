"""A ValidatingAdmissionPolicy and the binding that makes the API server deny what it refuses."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes.admissionregistration.v1 as admission
import pulumi_kubernetes.meta.v1 as meta


def denying_policy(
    name: str,
    policy_name: str,
    spec: admission.ValidatingAdmissionPolicySpecArgs,
    labels: dict[str, str],
    parent: pulumi.Resource,
) -> admission.ValidatingAdmissionPolicyBinding:
    """Policy ``policy_name`` with ``spec``, bound cluster-wide with ``validationActions: Deny``."""
    policy = admission.ValidatingAdmissionPolicy(
        f"{name}-policy",
        metadata=meta.ObjectMetaArgs(name=policy_name, labels=labels),
        spec=spec,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return admission.ValidatingAdmissionPolicyBinding(
        f"{name}-policy-binding",
        metadata=meta.ObjectMetaArgs(name=policy_name, labels=labels),
        spec=admission.ValidatingAdmissionPolicyBindingSpecArgs(
            policy_name=policy.metadata.apply(lambda m: str(m.name)),
            validation_actions=["Deny"],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
