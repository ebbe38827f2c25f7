"""envctl plan, run as a command: the plan document, config handling, secrets, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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
    # The namespace carries its owner (team platform, service tasks of Pulumi.draft.yaml).
    owned = json.loads(envctl("name", "feature/x", "--json").stdout)["namespace"]
    assert owned.startswith("draft-feature-x-")
    assert namespace["inputs"]["metadata"]["name"] == owned
    assert labels["environments.dev/branch"] == "feature-x"
    assert labels["app.kubernetes.io/managed-by"] == "environments"
    assert {"environments.dev/team", "environments.dev/sha", "environments.dev/expires-at"} <= set(
        labels
    )
    assert (
        document["outputs"]["url"] == f"https://{owned.removeprefix('draft-')}.drafts.example.com"
    )
    assert document["outputs"]["namespace"] == owned


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
    assert names["stack"] == names["helm_release"]
    assert names["stack"].startswith("draft-feature-zadacha-42--")
    # the namespace carries its owner (team/service), so two services never share one
    owner = names["namespace"].removeprefix(names["stack"] + "-")
    assert len(owner) == 8 and owner.isalnum() and len(names["namespace"]) <= 63
    assert names["image_tag"] == names["stack"] + "-abcdef1"


def test_two_owners_of_the_same_branch_get_their_own_namespace_and_ingress_host() -> None:
    def exposed(team: str) -> tuple[str, str]:
        document = plan_json(envctl("plan", "draft-feature-x", "--json",
                                    "--set", f"draft:team={team}"))  # fmt: skip
        release = next(r for r in document["resources"] if r["type"].endswith("helm.sh/v3:Release"))
        host = release["inputs"]["values"]["ingress"]["host"]
        assert document["outputs"]["url"] == f"https://{host}"
        assert len(host.split(".")[0]) <= 63
        return document["outputs"]["namespace"], host

    platform, payments = exposed("platform"), exposed("payments")
    assert platform[0] != payments[0] and platform[1] != payments[1]
    assert platform[1].startswith("feature-x-") and payments[1].startswith("feature-x-")


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


# --- defaults are envctl's repository, wherever the shell is ---------------------------


def test_from_another_directory_the_default_program_and_policy_pack_are_the_repos(
    tmp_path: Path,
) -> None:
    document = plan_json(envctl("plan", "draft-feature-x", "--json", cwd=tmp_path))
    assert document["project"] == "environments"
    evil = REPO / "tests" / "policy" / "programs" / "evil"
    run = envctl("plan", "draft-evil", "--cwd", str(evil), "--json", cwd=tmp_path)
    assert run.code == 1, run.stderr
    violations = json.loads(run.stdout)["policy"]["violations"]
    assert {v["policy"] for v in violations if v["level"] == "mandatory"} >= {"vault-token-ttl"}


# --- encrypted stack config ------------------------------------------------------------

ENCRYPTED = "v1:AAAABBBBCCCCDDDDEEEE"


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of this project (no tests, no caches) to write stack files into."""
    skip = shutil.ignore_patterns(
        ".venv", ".git", "tests", "bench", "docs", "*cache*", "__pycache__", "*.egg-info"
    )
    copy = tmp_path / "project"
    shutil.copytree(REPO, copy, ignore=skip)
    return copy


def test_envctl_of_a_checkout_without_a_policy_pack_says_none_was_evaluated(
    project_copy: Path, tmp_path: Path
) -> None:
    shutil.rmtree(project_copy / "policy")
    # The copy has no .git, so only its own stack file can give the sha: a plan means the
    # copy's program ran, not the one of the shell's directory or of the installed envctl.
    (project_copy / "Pulumi.draft-feature-x.yaml").write_text(
        "config:\n  draft:sha: 0123456789abcdef0123456789abcdef01234567\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from automation.cli import main; main()",
            "plan",
            "draft-feature-x",
        ],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(project_copy)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "kubernetes:core/v1:Namespace" in done.stdout
    assert "no policy pack evaluated" in done.stderr


def test_an_encrypted_secrets_map_of_a_draft_stack_is_a_secret_not_an_error(
    project_copy: Path,
) -> None:
    (project_copy / "Pulumi.draft-feature-x.yaml").write_text(
        "config:\n"
        "  draft:sha: 0123456789abcdef0123456789abcdef01234567\n"
        f"  draft:secrets:\n    secure: {ENCRYPTED}\n"
        # needs draft:secrets.databaseUrl: the encrypted map must count as holding it
        "  draft:database:\n    mode: external\n"
    )
    run = envctl("plan", "draft-feature-x", "--cwd", str(project_copy), "--json")
    document = plan_json(run)
    assert ENCRYPTED not in run.stdout + run.stderr
    by_name = {r["name"]: r for r in document["resources"]}
    assert by_name["draft-image"]["inputs"]["registry"] == "[secret]"


# --- --out -------------------------------------------------------------------------------


def test_an_unusable_out_exits_2_naming_it_before_anything_runs(tmp_path: Path) -> None:
    a_file = tmp_path / "manifests.yaml"
    a_file.write_text("")
    for out in (a_file, a_file / "below"):
        run = envctl("plan", "draft-feature-x", "--out", str(out))
        assert run.code == 2, run.stderr
        assert "--out" in run.stderr and "Traceback" not in run.stderr and run.stdout == ""


def test_out_writes_safe_file_names_and_secrets_that_validate_as_written(
    program, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    cwd = program(
        """
        import pulumi
        import pulumi_kubernetes as k8s
        creds = pulumi.Output.secret({"username": "app", "password": "s3cr3t-value-42"})
        k8s.core.v1.Secret("team/../creds", metadata={"name": "creds", "namespace": "demo"},
            string_data=creds)
        """
    )
    out_dir = tmp_path / "manifests"
    run = envctl("plan", "dev", "--cwd", str(cwd), "--out", str(out_dir))
    assert run.code == 0, run.stderr
    (path,) = list(out_dir.rglob("*"))  # one file, right in --out, not in a subdirectory
    assert path.parent == out_dir and path.suffix == ".yaml" and ".." not in path.name
    secret = yaml.safe_load(path.read_text())
    assert "s3cr3t-value-42" not in path.read_text()
    assert set(secret["stringData"]) == {"username", "password"}
    assert set(secret["stringData"].values()) == {"[secret]"}
    kubernetes_validate.validate(secret, KUBERNETES_VERSION, strict=True)


def test_the_drafts_secret_manifests_validate_strictly_as_written(tmp_path: Path) -> None:
    # An external database is the draft's one Pulumi-written Secret (its own is made by ESO).
    url = 'draft:secrets={"databaseUrl": "postgresql://u:pw@db.example.com/app"}'
    external = ("--set", "draft:database.mode=external", "--set", url)
    run = envctl("plan", "draft-feature-x", "--out", str(tmp_path), *external)
    assert run.code == 0, run.stderr
    secrets = [
        m
        for m in (yaml.safe_load(p.read_text()) for p in sorted(tmp_path.glob("*.yaml")))
        if m["kind"] == "Secret"
    ]
    assert secrets
    for manifest in secrets:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


# --- config messages and exit codes -----------------------------------------------------


def test_a_bad_value_names_the_key_its_problem_and_the_human_form() -> None:
    run = envctl("plan", "draft-feature-x", "--set", "draft:team=../prod")
    assert run.code == 2 and run.stdout == ""
    (line,) = [line for line in run.stderr.splitlines() if "draft:team" in line]
    assert "does not have the expected form" in line
    assert "lowercase letters, digits and inner dashes, at most 40 characters" in line
    assert "../prod" not in run.stderr and "[a-z0-9]" not in run.stderr


def test_list_item_keys_are_written_in_set_path_form() -> None:
    run = envctl("plan", "draft-feature-x", "--set", "draft:mocks[0].image=wiremock/wiremock")
    assert run.code == 2
    assert "draft:mocks[0].image is invalid" in run.stderr and "mocks.0" not in run.stderr


def test_pulumis_own_config_errors_exit_2_without_echoing_the_value(program) -> None:  # type: ignore[no-untyped-def]
    cwd = program("import pulumi\npulumi.export('port', pulumi.Config().require_int('port'))\n")
    missing = envctl("plan", "dev", "--cwd", str(cwd))
    assert missing.code == 2 and "demo:port" in missing.stderr, missing.stderr
    wrong = envctl("plan", "dev", "--cwd", str(cwd), "--set", "port=eighty-eighty")
    assert wrong.code == 2 and "demo:port" in wrong.stderr and "int" in wrong.stderr
    assert "eighty-eighty" not in wrong.stderr


def test_a_config_error_class_of_another_checkout_exits_2(program) -> None:  # type: ignore[no-untyped-def]
    cwd = program(
        """
        class ConfigError(Exception):
            pass
        raise ConfigError("demo:size is invalid (expected: small or large)")
        """
    )
    run = envctl("plan", "dev", "--cwd", str(cwd))
    assert run.code == 2 and "demo:size is invalid" in run.stderr


def test_a_set_key_without_namespace_is_refused_for_this_projects_stacks() -> None:
    run = envctl("plan", "draft-feature-x", "--set", "ttlHours=5")
    assert run.code == 2 and run.stdout == ""
    assert "--set" in run.stderr and "did you mean draft:ttlHours" in run.stderr


def test_set_reaches_into_lists_of_the_template() -> None:
    def mock_objects(*overrides: str) -> dict[str, dict]:  # type: ignore[type-arg]
        document = plan_json(envctl("plan", "draft-feature-x", "--json", *overrides))
        return {r["type"]: r["inputs"] for r in document["resources"] if "-mock-" in r["name"]}

    before = mock_objects()
    after = mock_objects("--set", "draft:mocks[0].port=9090")
    service, deployment = "kubernetes:core/v1:Service", "kubernetes:apps/v1:Deployment"
    assert [p["port"] for p in after[service]["spec"]["ports"]] == [9090]
    assert [p["port"] for p in before[service]["spec"]["ports"]] != [9090]
    # the rest of the template's mock (name, image) is still there, not replaced
    assert after[service]["metadata"]["name"] == before[service]["metadata"]["name"]
    containers = [
        d["spec"]["template"]["spec"]["containers"] for d in (before[deployment], after[deployment])
    ]
    assert containers[0][0]["image"] == containers[1][0]["image"]


@pytest.mark.parametrize("stack", ["draft-Feature-X", "draft-" + "a" * 60])
def test_a_stack_name_no_branch_can_have_is_named_as_such(stack: str) -> None:
    run = envctl("plan", stack)
    assert run.code == 2 and run.stdout == ""
    assert "cannot be a draft stack name" in run.stderr and "envctl name" in run.stderr
    assert "draft:branch" not in run.stderr


def test_name_uses_the_templates_branch_prefixes(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.draft.yaml").write_text("config:\n  draft:branchPrefixes: [release/]\n")
    run = envctl("name", "release/2-1", "--cwd", str(tmp_path), "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["stack"].startswith("draft-release-")
    refused = envctl("name", "feature/login", "--cwd", str(tmp_path))
    assert refused.code == 2 and "'release/*'" in refused.stderr
