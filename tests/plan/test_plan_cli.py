"""envctl plan, run as a command: the plan document, config handling, secrets, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.plan.conftest import REPO, Run, envctl

PLAN_SCHEMA = json.loads((REPO / "docs" / "plan.schema.json").read_text())
KUBERNETES_VERSION = "1.34.0"  # the one version every written manifest is validated against


def plan_json(run: Run) -> dict:  # type: ignore[type-arg]
    assert run.code == 0, run.stderr
    document = json.loads(run.stdout)
    jsonschema.validate(document, PLAN_SCHEMA)
    return document


def test_the_draft_plan_has_designs_shape_and_a_parented_namespace() -> None:
    document = plan_json(envctl("plan", "draft-feature-x", "--json"))
    assert document["project"] == "environments" and document["stack"] == "draft-feature-x"
    by_type = {r["type"]: r for r in document["resources"]}
    stack = by_type["pulumi:pulumi:Stack"]
    component = by_type["environments:draft:DraftEnvironment"]
    namespace = by_type["kubernetes:core/v1:Namespace"]
    assert stack["parent"] is None and component["parent"] == stack["urn"]
    assert namespace["parent"] == component["urn"]
    labels = namespace["inputs"]["metadata"]["labels"]
    assert namespace["inputs"]["metadata"]["name"] == "draft-feature-x"
    assert labels["environments.dev/branch"] == "feature-x"
    assert labels["app.kubernetes.io/managed-by"] == "environments"
    assert {"environments.dev/team", "environments.dev/sha", "environments.dev/expires-at"} <= set(
        labels
    )
    assert document["outputs"]["url"].startswith("https://feature-x.")
    assert document["outputs"]["namespace"] == "draft-feature-x"


def test_a_ttl_beyond_48_hours_exits_2_naming_the_key_and_prints_no_plan() -> None:
    run = envctl("plan", "draft-feature-x", "--set", "draft:ttlHours=500")
    assert run.code == 2
    assert "draft:ttlHours" in run.stderr and "48" in run.stderr
    assert run.stdout == ""


def test_a_stack_of_no_known_kind_exits_2() -> None:
    run = envctl("plan", "production")
    assert run.code == 2
    assert "'production' is not a stack this project deploys" in run.stderr


@pytest.mark.parametrize("stack", ["draft-фича", "draft feature", "", "x" * 101])
def test_a_malformed_stack_name_exits_2(stack: str) -> None:
    run = envctl("plan", stack)
    assert run.code == 2 and "STACK" in run.stderr and run.stdout == ""


@pytest.mark.parametrize("override", ["draft:ttlHours", "=5", "draft:vault.[x=1"])
def test_a_malformed_set_exits_2_naming_the_option(override: str) -> None:
    run = envctl("plan", "draft-feature-x", "--set", override)
    assert run.code == 2 and "--set" in run.stderr


def test_set_has_pulumi_config_path_semantics(program) -> None:  # type: ignore[no-untyped-def]
    cwd = program(
        """
        import pulumi
        config = pulumi.Config()
        pulumi.export("obj", config.get_object("obj"))
        pulumi.export("flat", config.get("flat"))
        """,
        {"dev": "config:\n  demo:obj:\n    keep: 1\n"},
    )
    run = envctl(
        "plan",
        "dev",
        "--cwd",
        str(cwd),
        "--json",
        "--set",
        "obj.a[1].b=true",
        "--set",
        'obj["x.y"]=7',
        "--set",
        "demo:flat=plain text",
    )
    outputs = plan_json(run)["outputs"]
    assert outputs["obj"] == {"keep": 1, "a": [None, {"b": True}], "x.y": 7}
    assert outputs["flat"] == "plain text"


def test_encrypted_config_it_cannot_decrypt_is_a_secret_not_an_error(program) -> None:  # type: ignore[no-untyped-def]
    cwd = program(
        """
        import pulumi
        token = pulumi.Config().require_secret("token")
        pulumi.CustomResource("demo:index:Thing", "thing", {"token": token, "plain": "visible"})
        pulumi.export("token", token)
        """,
        {"dev": "config:\n  demo:token:\n    secure: v1:AAAABBBBCCCC\n"},
    )
    document = plan_json(envctl("plan", "dev", "--cwd", str(cwd), "--json"))
    thing = next(r for r in document["resources"] if r["type"] == "demo:index:Thing")
    assert thing["inputs"] == {"token": "[secret]", "plain": "visible"}
    assert document["outputs"]["token"] == "[secret]"


def test_secret_values_never_reach_any_output_of_the_plan(program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cwd = program(
        """
        import pulumi
        secret = pulumi.Output.secret("s3cr3t-value-42")
        pulumi.CustomResource("kubernetes:core/v1:Secret", "creds", {
            "metadata": {"name": "creds"}, "stringData": {"password": secret}})
        pulumi.export("password", secret)
        """
    )
    out_dir = tmp_path / "manifests"
    for args in (["--json"], [], ["--out", str(out_dir)]):
        run = envctl("plan", "dev", "--cwd", str(cwd), *args)
        assert run.code == 0, run.stderr
        assert "s3cr3t-value-42" not in run.stdout + run.stderr
    written = "".join(p.read_text() for p in out_dir.iterdir())
    assert "s3cr3t-value-42" not in written and "[secret]" in written


def test_dependencies_and_parents_are_recorded(program) -> None:  # type: ignore[no-untyped-def]
    cwd = program(
        """
        import pulumi
        class Box(pulumi.ComponentResource):
            def __init__(self, name):
                super().__init__("demo:index:Box", name)
                self.a = pulumi.CustomResource("demo:index:A", "a", {}, pulumi.ResourceOptions(parent=self))
                self.b = pulumi.CustomResource("demo:index:B", "b", {"ref": self.a.id},
                    pulumi.ResourceOptions(parent=self, depends_on=[self.a]))
        Box("box")
        """
    )
    resources = {
        r["name"]: r
        for r in plan_json(envctl("plan", "dev", "--cwd", str(cwd), "--json"))["resources"]
    }
    assert resources["a"]["parent"] == resources["box"]["urn"]
    assert resources["b"]["dependsOn"] == [resources["a"]["urn"]]


def test_a_failing_program_exits_1_and_says_where(program) -> None:  # type: ignore[no-untyped-def]
    cwd = program("import pulumi\nraise ValueError('boom')\n")
    run = envctl("plan", "dev", "--cwd", str(cwd))
    assert run.code == 1
    assert "ValueError: boom" in run.stderr and "__main__.py:2" in run.stderr


def test_a_directory_without_a_project_exits_2(tmp_path: Path) -> None:
    run = envctl("plan", "dev", "--cwd", str(tmp_path))
    assert run.code == 2 and "--cwd" in run.stderr and "Pulumi.yaml" in run.stderr


def test_the_human_plan_shows_the_tree_and_outputs() -> None:
    run = envctl("plan", "draft-feature-x")
    assert run.code == 0, run.stderr
    assert "draft-feature-x" in run.stdout
    assert "kubernetes:core/v1:Namespace" in run.stdout
    assert "url" in run.stdout


def test_out_writes_manifests_that_kubernetes_validate_accepts_strictly(
    program, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    cwd = program(
        """
        import pulumi
        import pulumi_kubernetes as k8s
        ns = k8s.core.v1.Namespace("ns", metadata={"name": "demo"})
        k8s.core.v1.ConfigMap("cm", metadata={"name": "cm", "namespace": "demo"}, data={"a": "b"},
            opts=pulumi.ResourceOptions(depends_on=[ns]))
        k8s.apps.v1.Deployment("web", metadata={"name": "web", "namespace": "demo"}, spec={
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}})
        k8s.networking.v1.NetworkPolicy("deny", metadata={"name": "deny", "namespace": "demo"},
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
        """
    )
    out_dir = tmp_path / "manifests"
    run = envctl("plan", "dev", "--cwd", str(cwd), "--out", str(out_dir))
    assert run.code == 0, run.stderr
    manifests = [yaml.safe_load(p.read_text()) for p in sorted(out_dir.glob("*.yaml"))]
    assert sorted((m["apiVersion"], m["kind"]) for m in manifests) == [
        ("apps/v1", "Deployment"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("v1", "ConfigMap"),
        ("v1", "Namespace"),
    ]
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_name_prints_every_derived_name_as_json() -> None:
    run = envctl("name", "Feature/Задача-42", "--sha", "ABCDEF1234567", "--json")
    assert run.code == 0, run.stderr
    names = json.loads(run.stdout)
    assert names["stack"] == names["namespace"] == names["helm_release"]
    assert names["stack"].startswith("draft-feature-zadacha-42--")
    assert names["image_tag"] == names["stack"] + "-abcdef1"


@pytest.mark.parametrize("branch", ["main", "develop", "", "hotfix/x"])
def test_name_exits_2_for_branches_without_a_draft(branch: str) -> None:
    run = envctl("name", branch)
    assert run.code == 2 and "branch" in run.stderr and run.stdout == ""


def test_a_bad_policy_pack_config_exits_2_naming_the_key(program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cwd = program("import pulumi\n")
    config = tmp_path / "policy-config.json"
    config.write_text('{"vault-token-ttl": {"maxTtlSeconds": "one hour"}}')
    run = envctl(
        "plan",
        "dev",
        "--cwd",
        str(cwd),
        "--policy-pack",
        str(REPO / "policy"),
        "--policy-pack-config",
        str(config),
    )
    assert run.code == 2 and "maxTtlSeconds" in run.stderr and run.stdout == ""


def test_a_policy_pack_that_cannot_load_exits_1(program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cwd = program("import pulumi\n")
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (pack / "__main__.py").write_text("raise RuntimeError('broken pack')\n")
    run = envctl("plan", "dev", "--cwd", str(cwd), "--policy-pack", str(pack))
    assert run.code == 1 and "broken pack" in run.stderr
