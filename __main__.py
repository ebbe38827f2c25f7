"""The environments Pulumi program: read the stack's settings, build its one component.

It reads neither the clock nor git: the commit (``draft:sha``) and the deploy time
(``draft:deployedAt``) are config, set by ``envctl draft up``, so the same config gives the
same resource inputs and ``pulumi preview --expect-no-changes`` can pass.
"""

from pathlib import Path

import pulumi

from components.config import stack_kind

PROJECT_DIR = Path(__file__).resolve().parent
stack = pulumi.get_stack()

kind = stack_kind(stack)
if kind == "draft":
    from components.draft.environment import DraftEnvironment
    from components.draft.settings import load_draft_settings

    settings = load_draft_settings(stack, PROJECT_DIR)
    draft = DraftEnvironment("draft", settings, PROJECT_DIR)
    pulumi.export("url", draft.url)
    pulumi.export("namespace", draft.namespace_name)
    pulumi.export("image", draft.image_ref)
    pulumi.export("expires_at", draft.expires_at)
    pulumi.export("smoke", draft.smoke)  # passed / failed / skipped: envctl draft up reads it
elif kind == "platform":
    from components.platform.environment import DraftPlatform
    from components.platform.settings import load_platform_settings

    platform = DraftPlatform("platform", load_platform_settings(PROJECT_DIR))
    pulumi.export("namespace", platform.namespace.metadata.apply(lambda m: m.name))
    pulumi.export("reaperSchedule", platform.reaper.cron_job.spec.apply(lambda s: s.schedule))
else:
    from components.staging.host import StagingHost
    from components.staging.settings import load_staging_settings

    staging = StagingHost("staging", load_staging_settings(PROJECT_DIR))
    pulumi.export("url", staging.url)
    pulumi.export("dashboardUrl", staging.dashboard_url)
    pulumi.export("commit", staging.commit)
    pulumi.export("dnsRecords", staging.dns)
