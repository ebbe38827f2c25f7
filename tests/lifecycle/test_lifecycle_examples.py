"""The example pipelines are complete and call envctl with flags it really has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
SAMPLE = {
    "CI_COMMIT_REF_NAME": "feature/login",
    "HEAD_REF": "feature/login",
    "CI_COMMIT_SHA": "1111111aaaa",
    "SHA": "1111111aaaa",
    "HEAD_SHA": "1111111aaaa",
    "CI_REGISTRY": "registry.gitlab.example.com",
    "REPOSITORY": "group/app",
}


def load(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text())


def envctl_commands(name: str) -> list[list[str]]:
    lines = (EXAMPLES / name).read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    text = text.replace("\\\n", " ")
    text = re.sub(r"\n\s+(--)", r" \1", text)  # YAML folded continuation lines
    commands = []
    for match in re.finditer(r"envctl (draft [^\n|>]*)", text):
        line = re.sub(r"\$\{?(\w+)\}?", lambda m: SAMPLE.get(m.group(1), m.group(0)), match[1])
        commands.append(shlex.split(line))
    return commands


def test_gitlab_review_app_environment_with_stop_and_auto_stop() -> None:
    pipeline = load("gitlab-ci.yml")
    deploy = pipeline["deploy_draft"]
    stop = pipeline[deploy["environment"]["on_stop"]]
    assert deploy["environment"]["auto_stop_in"] == "48 hours"
    assert stop["environment"] == {"name": deploy["environment"]["name"], "action": "stop"}
    assert deploy["resource_group"] == stop["resource_group"]
    assert "process_mode=oldest_first" in " ".join(deploy["script"])
    for job in (deploy, stop, pipeline["reap_drafts"]):  # the cluster for each
        assert ".envctl" in job["extends"]
    # an OIDC token only where Vault may be needed: never for stop and reap
    assert "VAULT_ID_TOKEN" in deploy["id_tokens"]
    assert all("id_tokens" not in job for name, job in pipeline.items() if name != "deploy_draft")
    assert any("KUBE_CONTEXT" in line for line in pipeline[".envctl"]["before_script"])
    assert deploy["artifacts"]["reports"]["dotenv"] == "draft.env"
    assert pipeline["reap_drafts"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert {"lint", "test", "build", "deploy", "cleanup"} <= set(pipeline["stages"])


def test_github_workflow_covers_pr_events_and_the_schedule() -> None:
    workflow = load("github-actions.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers["pull_request"]["types"]) >= {"opened", "synchronize", "closed"}
    assert triggers["schedule"]
    jobs = workflow["jobs"]
    # an OIDC token only for the deploy (destroy and reap never log in to Vault)
    assert "id-token" not in workflow["permissions"]
    assert [n for n, job in jobs.items() if "id-token" in job.get("permissions", {})] == ["deploy"]
    assert {"deploy", "destroy", "reap", "lint", "test", "build"} <= set(jobs)
    fork_check = "github.event.pull_request.head.repo.full_name == github.repository"
    assert fork_check in jobs["build"]["if"] and fork_check in jobs["destroy"]["if"]
    assert "build" in jobs["deploy"]["needs"]  # so forks skip it too
    for name in ("deploy", "destroy", "reap"):
        assert any("KUBECONFIG" in str(step.get("run", "")) for step in jobs[name]["steps"])


@pytest.mark.parametrize("example", ["gitlab-ci.yml", "github-actions.yml"])
def test_every_deploy_uses_the_image_the_build_pushed(example) -> None:
    (up,) = [c for c in envctl_commands(example) if c[1] == "up"]
    assert "draft:image.prebuilt=true" in up
    assert any(a.startswith("draft:image.registry=") for a in up)
    assert any(a.startswith("draft:image.repository=") for a in up)


def test_no_job_image_floats() -> None:
    text = (EXAMPLES / "gitlab-ci.yml").read_text()
    images = re.findall(r"^\s*(?:image|services):\s*\[?([^\s\]#]+)", text, re.MULTILINE)
    assert images and all(":" in i and not i.endswith((":latest", ":stable")) for i in images)


@pytest.mark.parametrize("example", ["gitlab-ci.yml", "github-actions.yml"])
def test_every_envctl_command_in_the_examples_runs(envctl, example) -> None:
    commands = envctl_commands(example)
    assert {c[1] for c in commands} >= {"up", "destroy", "reap"}
    for command in commands:
        result = envctl(*command)
        assert result.exit_code == 0, (command, result.output)


APP_DIR = "examples/draft-app"
REPO = EXAMPLES.parents[1]


def test_both_pipelines_build_from_the_apps_dockerfile_directory() -> None:
    template = yaml.safe_load((REPO / "Pulumi.draft.yaml").read_text())["config"]
    assert template["draft:image"]["context"] == APP_DIR  # the same context the program uses
    assert (REPO / APP_DIR / "Dockerfile").is_file() and not (REPO / "Dockerfile").exists()
    gitlab = load("gitlab-ci.yml")
    assert gitlab["variables"]["APP_DIR"] == APP_DIR
    build = " ".join(gitlab["build_draft_image"]["script"])
    assert build.rstrip().endswith('--file "$APP_DIR/Dockerfile" "$APP_DIR"')
    github = load("github-actions.yml")
    assert github["env"]["APP_DIR"] == APP_DIR
    (push,) = [
        s for s in github["jobs"]["build"]["steps"] if "build-push-action" in s.get("uses", "")
    ]
    assert push["with"]["context"] == "${{ env.APP_DIR }}"
    assert push["with"]["file"] == "${{ env.APP_DIR }}/Dockerfile"


def test_github_builds_tags_and_deploys_the_pr_head_commit_not_the_merge_commit() -> None:
    workflow = load("github-actions.yml")
    head = "${{ github.event.pull_request.head.sha }}"
    assert workflow["env"]["HEAD_SHA"] == head
    for name in ("build", "deploy"):
        (checkout,) = [
            s for s in workflow["jobs"][name]["steps"] if "checkout" in s.get("uses", "")
        ]
        assert checkout["with"]["ref"] == head, name
    names = next(s for s in workflow["jobs"]["build"]["steps"] if s.get("id") == "names")
    assert '--sha "$HEAD_SHA"' in names["run"]
    (up,) = [c for c in envctl_commands("github-actions.yml") if c[1] == "up"]
    assert up[up.index("--sha") + 1] == SAMPLE["HEAD_SHA"]


def test_gitlab_stop_job_clones_into_a_fresh_directory() -> None:
    stop = load("gitlab-ci.yml")["stop_draft"]
    assert stop["variables"]["GIT_STRATEGY"] == "none"
    clone = next(line for line in stop["before_script"] if "git clone" in line)
    assert clone.rstrip().endswith('"$WORKDIR/project"')
    assert 'WORKDIR="$(mktemp -d)"' in stop["before_script"]


def test_a_merge_into_develop_hands_over_to_the_dev_pipeline() -> None:
    gitlab = load("gitlab-ci.yml")["dev_handover"]
    assert gitlab["trigger"]["include"] and gitlab["trigger"]["strategy"] == "depend"
    assert gitlab["rules"] == [
        {"if": '$CI_COMMIT_BRANCH == "develop" && $CI_PIPELINE_SOURCE == "push"'}
    ]
    github = load("github-actions.yml")["jobs"]["dev-handover"]
    assert "github.event.pull_request.merged == true" in github["if"]
    assert "github.event.pull_request.base.ref == 'develop'" in github["if"]
    assert github["permissions"] == {"actions": "write"}
    assert 'gh workflow run "$DEV_WORKFLOW" --ref develop' in github["steps"][0]["run"]


@pytest.mark.parametrize("example", ["gitlab-ci.yml", "github-actions.yml"])
def test_the_failed_pods_logs_are_kept_as_an_artefact(example) -> None:
    text = (EXAMPLES / example).read_text()
    assert "envctl-failed-pods/" in text
