"""Reports, as advisory messages, exactly what each policy call received (JSON)."""

import json

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)


def plain(value):
    """The proxied props as plain JSON, with each scalar's Python type."""
    if isinstance(value, dict | list) or hasattr(value, "keys"):
        return {k: plain(value[k]) for k in value}
    if hasattr(value, "__len__") and not isinstance(value, str):
        return [plain(value[i]) for i in range(len(value))]
    return {"type": type(value).__name__, "value": value}


def see_resource(args, report):
    if not args.resource_type.startswith(("kubernetes:core/v1:ConfigMap", "vault:")):
        return
    provider = args.provider
    report(
        json.dumps(
            {
                "type": args.resource_type,
                "name": args.name,
                "urn": args.urn,
                "props": plain(args.props),
                "parent": args.opts.parent,
                "protect": args.opts.protect,
                "delete_timeout": args.opts.custom_timeouts.delete_seconds,
                "provider": None
                if provider is None
                else {
                    "type": provider.resource_type,
                    "name": provider.name,
                    "props": plain(provider.props),
                },
                "stack": pulumi.get_stack(),
                "project": pulumi.get_project(),
                "dry_run": pulumi.runtime.is_dry_run(),
                "color": pulumi.Config("probe").get("color"),
                "config": dict(args.get_config()),
            }
        ),
        None,
    )


def see_stack(args, report):
    by_urn = {r.urn: r for r in args.resources}
    report(
        json.dumps(
            {
                r.name: {
                    "type": r.resource_type,
                    "parent": r.parent.name if r.parent else None,
                    "dependencies": sorted(d.name for d in r.dependencies),
                    "property_dependencies": {
                        k: sorted(d.name for d in v) for k, v in r.property_dependencies.items()
                    },
                }
                for r in by_urn.values()
            }
        ),
        None,
    )


def never(args, report):
    raise AssertionError("a disabled policy ran")


def read_unknown(args, report):
    if args.resource_type == "kubernetes:core/v1:ConfigMap":
        args.props.get("data", {}).get("later")  # when unknown, the SDK reports it


PolicyPack(
    name="probe",
    enforcement_level=EnforcementLevel.ADVISORY,
    initial_config={"probe-never": EnforcementLevel.DISABLED},
    policies=[
        ResourceValidationPolicy(
            name="probe-resource",
            description="what a resource policy receives",
            validate=see_resource,
            config_schema=PolicyConfigSchema(
                properties={
                    "limit": {"type": "integer", "default": 3600},
                    "label": {"type": "string"},
                }
            ),
        ),
        StackValidationPolicy(
            name="probe-stack", description="what a stack policy receives", validate=see_stack
        ),
        ResourceValidationPolicy(name="probe-never", description="disabled", validate=never),
        ResourceValidationPolicy(
            name="probe-unknown",
            description="reads an unknown value",
            validate=read_unknown,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
    ],
)
