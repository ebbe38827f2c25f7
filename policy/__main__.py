"""environments-guardrails: secret TTLs and environment guardrails for every stack.

Attach it to any stack: ``pulumi up --policy-pack policy`` (or a Pulumi Cloud policy group);
``envctl plan STACK --policy-pack policy`` evaluates the same policies offline. Every policy is
mandatory unless configured otherwise (``--policy-pack-config``); see docs/policy.md.
"""

import draft_isolation
import draft_lifetime
import draft_network
import draft_rbac
import secret_hygiene
import vault_bindings
import vault_ttl
from pack_support import install_secret_hook
from pulumi_policy import EnforcementLevel, PolicyPack

if not install_secret_hook():
    # Fail closed: without the engine's secret markers the secret policies cannot tell a
    # secret from plain text. pulumi-policy is pinned in requirements.txt for this reason.
    raise RuntimeError(
        "environments-guardrails: this pulumi-policy version hides secret markers from policies; "
        "install the version pinned in policy/requirements.txt"
    )

PolicyPack(
    name="environments-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        *vault_ttl.POLICIES,
        *vault_bindings.POLICIES,
        *secret_hygiene.POLICIES,
        *draft_lifetime.POLICIES,
        *draft_isolation.POLICIES,
        *draft_network.POLICIES,
        *draft_rbac.POLICIES,
    ],
)
