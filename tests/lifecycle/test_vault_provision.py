"""The Vault trust boundary of drafts, against the real OpenBao (marker ``vault``).

``envctl vault provision`` (an admin, with an admin token) gives each team/service its
roles and read-only policies; these tests then act as the pipeline and as a draft's pod.

What is proven here, by the real OpenBao:

* a pipeline's token (a real signed JWT of OpenBao's own OIDC issuer, as GitLab id_tokens
  or GitHub OIDC would give) reads its own ``draft/<team>/<service>`` and nothing else, and
  cannot write a policy, a role, or create a token for another policy;
* the JWT of one project cannot log in to another team's CI role;
* every role hands out tokens of at most an hour, with an explicit max and no period;
* the drafts' Kubernetes auth role refuses, before any token review, a service account
  token whose namespace is not one of the team/service's drafts (another team's, another
  service's on the same branch), whose service account name differs, or whose audience is
  not the role's; a CI JWT and another role's name are refused too;
* the printed ``bao`` commands create exactly what ``envctl vault provision`` does.

What is *not* proven: no real kube-apiserver runs here, so the TokenReview that OpenBao
sends is answered by a loopback stand-in that accepts the tokens it minted (as the cluster
would accept its own) for the audiences they carry. The positive login therefore proves
what OpenBao does once a review succeeds — which audience and credential it sends the reviewer,
the policy and lifetime of the pod's token, what that token may read — not that a real API
server's TokenReview accepts the token: tests/cluster/test_vault_kubernetes_auth.py does.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import hvac
import pytest
from hvac import exceptions as hvac_errors
from typer.testing import CliRunner

from automation.cli import app
from automation.lifecycle.errors import BadInput
from automation.lifecycle.redact import Redactor
from automation.lifecycle.vault import TokenInfo, login_from_env, token_problem, vault_session
from automation.lifecycle.vault_provision import (
    ProvisionRequest,
    apply_writes,
    checked,
    provision_writes,
    render_commands,
)
from components.naming import names_for, vault_names
from tests.lifecycle.conftest import _bao_binary

pytestmark = pytest.mark.vault

K8S = "drafts-k8s"  # this module's own Kubernetes auth mount on the shared OpenBao
BRANCH = "feature/login"
TEAM_A_BILLING = {"DB_PASSWORD": "pw-billing-Qm41"}
REVIEWER_JWT = "reviewer-token-of-vault-token-reviewer"  # only this stand-in reads it
# Any PEM certificate: the reviewer below is plain HTTP on loopback, it is never used.
CLUSTER_CA = """-----BEGIN CERTIFICATE-----
MIIDFTCCAf2gAwIBAgIULFnKWd+yJPsDo7ftKYzoklUrR/MwDQYJKoZIhvcNAQEL
BQAwGjEYMBYGA1UEAwwPdGVzdC1jbHVzdGVyLWNhMB4XDTI2MTIwMjAwNTMwMloX
DTM2MTEyOTAwNTMwMlowGjEYMBYGA1UEAwwPdGVzdC1jbHVzdGVyLWNhMIIBIjAN
BgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqnEBiHvxH2HYx8T4MzH4hi6YgWjA
bkrhBll3K6vo1FaKbnzxm1KuPUUvcH1PKMYPVDNfQI7WaIsO4Ey8HZOOSej9ZcO9
055vA5oO+tCvOl3cXlDzcJtS+KhWrEmPgZKwoZ94QU3wW04Vppr8b/8UVGghkLae
9F6sIys0TQHsEEegQo3MaVM96IIxY4MhuTRn7T7ERWWavg6jx8ZKhrRiwFJSSRR5
O7jcXYD42JM9XwJaRsRfWy4wS6cithq0uCqxf5ZefQ8ORG5JQW3kuPVfXy6I6kXQ
KEUr0k28oRha0cYWW50zSR177HRVIO3/8Ze/b/w/D8/cNGhdXYJPemhV+QIDAQAB
o1MwUTAdBgNVHQ4EFgQU/PEqYrj5CufjjZTvkw4Kk+mMlBkwHwYDVR0jBBgwFoAU
/PEqYrj5CufjjZTvkw4Kk+mMlBkwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0B
AQsFAAOCAQEAP0SbDuExBfcQQKFBBGItImlFvOSpHoyezVy3IhyYqgQf6e/KNEQc
pimtwnjJO4dTnxlnFrAG3N3Auve4LjCkf8cwqK0F1J3+ik5QzKxYT3ytRgGejKLd
Rjao/5gz47ZLNTSRrz/ZdAi72CRm+Wss08lZI3XNn9V4hz6D7pg1y5ow1JGhg0vc
FPzU4Ln+d6HmLIFG3njRzQiJTXmnQYc9SNTBqvEbwPqn26BwRjCuz/6MFKQ1nckj
5TMTJw/teoYtLxHowh4+36c1jvc9AIX5+V2v9aDdjDIHW6cuLNQuNXSfd15RM6z6
f+aFW7wvDNgnYMbBGKLhAHALSHSoyEnKpA==
-----END CERTIFICATE-----
"""
OWNERS = {
    ("team-a", "tasks"): {"project_path": "group/app"},
    ("team-a", "billing"): {"project_path": "group/billing"},
    ("team-b", "tasks"): {"project_path": "group/b"},
}


def request_for(team: str, service: str, **extra: Any) -> ProvisionRequest:
    return checked(
        ProvisionRequest(
            team=team,
            service=service,
            ci_bound_claims=OWNERS.get((team, service), {"project_path": "group/x"}),
            kubernetes_mount=K8S,
            **extra,
        )
    )


def namespace_of(team: str, service: str) -> str:
    return names_for(BRANCH, team=team, service=service).namespace


# -- a stand-in for the cluster's TokenReview API ------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@dataclass
class Cluster:
    """Mints service account tokens and answers TokenReviews for them, as an API server."""

    url: str = ""
    issued: dict[str, dict[str, Any]] = field(default_factory=dict)
    reviews: list[dict[str, Any]] = field(default_factory=list)

    def token(self, namespace: str, account: str, audiences: tuple[str, ...] = ("vault",)) -> str:
        uid = str(uuid.uuid4())
        claims = {
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": f"system:serviceaccount:{namespace}:{account}",
            "aud": list(audiences),
            "exp": 4102444800,
            "iat": 1764633600,
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": account, "uid": uid},
            },
        }
        jwt = f"{_b64({'alg': 'RS256', 'kid': 'test'})}.{_b64(claims)}.{_b64({'sig': uid})}"
        self.issued[jwt] = claims
        return jwt

    def review(self, body: dict[str, Any], bearer: str) -> dict[str, Any]:
        spec = body.get("spec", {})
        self.reviews.append({"audiences": spec.get("audiences"), "bearer": bearer, **spec})
        claims = self.issued.get(spec.get("token", ""))
        wanted = spec.get("audiences") or ["https://kubernetes.default.svc.cluster.local"]
        granted = [a for a in wanted if claims and a in claims["aud"]]
        if claims is None or not granted:
            return {"status": {"authenticated": False, "error": "invalid bearer token"}}
        account = claims["kubernetes.io"]
        return {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "status": {
                "authenticated": True,
                "user": {
                    "username": claims["sub"],
                    "uid": account["serviceaccount"]["uid"],
                    "groups": [
                        "system:serviceaccounts",
                        f"system:serviceaccounts:{account['namespace']}",
                    ],
                },
                "audiences": granted,
            },
        }


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    state = Cluster()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            answer = json.dumps(state.review(body, bearer)).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- the admin's provisioning --------------------------------------------------------------


@pytest.fixture(scope="module")
def provisioned(openbao, cluster: Cluster) -> Iterator[Any]:
    """Kubernetes auth on its own mount (reviewing with the caller's JWT), three owners."""
    root = openbao.root
    root.sys.enable_auth_method("kubernetes", path=K8S)
    root.write(
        f"auth/{K8S}/config",
        kubernetes_host=cluster.url,
        kubernetes_ca_cert=CLUSTER_CA,
        disable_local_ca_jwt=True,
        token_reviewer_jwt=REVIEWER_JWT,
    )
    root.secrets.kv.v2.create_or_update_secret(
        "team-a/billing", TEAM_A_BILLING, mount_point="draft"
    )
    for team, service in OWNERS:
        apply_writes(root, provision_writes(request_for(team, service)))
    try:
        yield openbao
    finally:
        root.sys.disable_auth_method(K8S)
        for team, service in [*OWNERS, ("team-c", "tasks"), ("team-d", "tasks")]:
            names = vault_names(team, service)
            root.delete(f"auth/jwt/role/{names.ci_role}")
            for policy in (names.draft_role, names.ci_role):
                root.sys.delete_policy(policy)


def ci_login(openbao, role: str) -> hvac.Client:
    """Log in as the pipeline of project group/app (its real signed OIDC token)."""
    client = hvac.Client(url=openbao.address)
    client.auth.jwt.jwt_login(role=role, jwt=openbao.ci_jwt(), path="jwt")
    return client


def pod_login(openbao, role: str, jwt: str) -> hvac.Client:
    client = hvac.Client(url=openbao.address)
    client.auth.kubernetes.login(role, jwt, mount_point=K8S)
    return client


def can_read(client: hvac.Client, team: str, service: str) -> bool:
    try:
        client.secrets.kv.v2.read_secret_version(
            path=f"{team}/{service}", mount_point="draft", raise_on_deleted_version=True
        )
    except hvac_errors.Forbidden:
        return False
    return True


# -- the pipeline -------------------------------------------------------------------------


def test_a_pipeline_reads_its_own_path_and_no_other_teams_or_services(provisioned) -> None:
    env = {
        "VAULT_ADDR": provisioned.address,
        "VAULT_ID_TOKEN": provisioned.ci_jwt(),
        "VAULT_ROLE": "ci.team-a.tasks",
    }
    login = login_from_env(env)
    assert login is not None
    with vault_session(login, Redactor()) as session:  # refuses tokens living over an hour
        assert session.read("draft", "team-a", "tasks", Redactor())["API_KEY"] == "key-team-a-91Zx"
        for team, service in (("team-b", "tasks"), ("team-a", "billing")):
            with pytest.raises(BadInput, match=f"denied reading draft/{team}/{service}"):
                session.read("draft", team, service, Redactor())
        assert session.info.period == 0 and 0 < session.info.explicit_max_ttl <= 3600
    assert session.revoked


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "sys/policies/acl/draft.team-a.tasks",
            {"policy": 'path "*" { capabilities = ["sudo", "read", "update", "create"] }'},
        ),
        ("sys/policies/acl/draft-x", {"policy": 'path "*" { capabilities = ["read"] }'}),
        ("sys/policy/draft-x", {"policy": 'path "*" { capabilities = ["read"] }'}),
        (f"auth/{K8S}/role/draft.team-a.tasks", {"bound_service_account_namespaces": ["*"]}),
        (
            f"auth/{K8S}/role/draft-x",
            {
                "bound_service_account_names": ["*"],
                "bound_service_account_namespaces": ["*"],
                "token_policies": ["draft.team-b.tasks"],
            },
        ),
        ("auth/jwt/role/ci.team-a.tasks", {"bound_claims": {"project_path": "*"}}),
        ("auth/token/create", {"policies": ["draft.team-b.tasks"]}),
        ("sys/auth/evil", {"type": "approle"}),
    ],
    ids=[
        "own-policy",
        "new-policy",
        "old-policy-path",
        "own-role",
        "new-role",
        "ci-role",
        "child-token",
        "auth-mount",
    ],
)
def test_a_pipeline_token_cannot_widen_its_own_access(provisioned, path, data) -> None:
    before = provisioned.root.sys.read_policy("draft.team-a.tasks")["data"]["rules"]
    client = ci_login(provisioned, "ci.team-a.tasks")
    try:
        with pytest.raises(hvac_errors.Forbidden):
            client.write_data(path, data=data)
    finally:
        client.auth.token.revoke_self()
    assert provisioned.root.sys.read_policy("draft.team-a.tasks")["data"]["rules"] == before


def test_a_project_cannot_log_in_to_another_teams_or_services_ci_role(provisioned) -> None:
    for role in ("ci.team-b.tasks", "ci.team-a.billing"):
        with pytest.raises(hvac_errors.VaultError, match="claim"):
            ci_login(provisioned, role)


@pytest.mark.parametrize(("team", "service"), list(OWNERS))
def test_every_role_is_exactly_what_provisioning_created(provisioned, team, service) -> None:
    root = provisioned.root
    names = vault_names(team, service)
    draft = root.read(f"auth/{K8S}/role/{names.draft_role}")["data"]
    ci = root.read(f"auth/jwt/role/{names.ci_role}")["data"]
    assert draft["bound_service_account_names"] == [service]
    assert draft["bound_service_account_namespaces"] == [
        f"draft-*-{names_for(BRANCH, team=team, service=service).owner}"
    ]
    assert draft["bound_service_account_namespace_selector"] == ""
    assert draft["audience"] == "vault"
    assert draft["token_policies"] == [f"draft.{team}.{service}"]
    assert ci["bound_claims"] == OWNERS[(team, service)] and ci["bound_audiences"] == ["vault"]
    assert ci["token_policies"] == [f"ci.{team}.{service}"]
    for role in (draft, ci):  # DESIGN: credentials live one hour at most
        assert 0 < role["token_ttl"] <= 3600 and 0 < role["token_max_ttl"] <= 3600
        assert 0 < role["token_explicit_max_ttl"] <= 3600
        assert role["token_period"] == 0 and role["token_type"] in ("service", "default")
    for policy in (names.draft_role, names.ci_role):
        rules = root.sys.read_policy(policy)["data"]["rules"]
        paths = [line for line in rules.splitlines() if line.startswith("path ")]
        assert paths == [f'path "draft/data/{team}/{service}" {{']
        assert 'capabilities = ["read"]' in rules and "*" not in rules


# -- a draft's pod (the SecretStore's service account) --------------------------------------


def test_a_drafts_pod_gets_an_hour_long_token_that_reads_its_own_path_only(
    provisioned, cluster: Cluster
) -> None:
    jwt = cluster.token(namespace_of("team-a", "tasks"), "tasks")
    client = pod_login(provisioned, "draft.team-a.tasks", jwt)
    try:
        data = client.auth.token.lookup_self()["data"]
        info = TokenInfo.from_lookup(data)
        assert token_problem(info, 3600) is None  # no period, explicit max, at most an hour
        assert 0 < info.ttl <= 3600 and info.explicit_max_ttl == 3600
        assert "draft.team-a.tasks" in data["policies"]
        assert can_read(client, "team-a", "tasks")
        assert not can_read(client, "team-b", "tasks")
        assert not can_read(client, "team-a", "billing")
        with pytest.raises(hvac_errors.Forbidden):
            client.sys.create_or_update_policy(
                "draft.team-a.tasks", 'path "*" { capabilities = ["read"] }'
            )
    finally:
        client.auth.token.revoke_self()
    review = cluster.reviews[-1]
    # OpenBao asks the cluster about the pod's token for the role's audience, with its own
    # reviewer's token as the credential (the platform stack's vault-token-reviewer).
    assert review["audiences"] == ["vault"] and review["token"] == jwt
    assert review["bearer"] == REVIEWER_JWT


@pytest.mark.parametrize(
    ("role", "namespace", "account", "audiences", "why"),
    [
        (
            "draft.team-a.tasks",
            namespace_of("team-b", "tasks"),
            "tasks",
            ("vault",),
            "namespace not authorized",
        ),
        (
            "draft.team-a.tasks",
            namespace_of("team-a", "billing"),
            "tasks",
            ("vault",),
            "namespace not authorized",
        ),
        (
            "draft.team-b.tasks",
            namespace_of("team-a", "tasks"),
            "tasks",
            ("vault",),
            "namespace not authorized",
        ),
        (
            "draft.team-a.tasks",
            namespace_of("team-a", "tasks"),
            "billing",
            ("vault",),
            "service account name not authorized",
        ),
        (
            "draft.team-a.tasks",
            "draft-feature-login",
            "tasks",
            ("vault",),
            "namespace not authorized",
        ),
        (
            "draft.team-a.tasks",
            namespace_of("team-a", "tasks"),
            "tasks",
            ("https://kubernetes.default.svc.cluster.local",),
            "invalid audience",
        ),
        (
            "ci.team-a.tasks",
            namespace_of("team-a", "tasks"),
            "tasks",
            ("vault",),
            "invalid role name",
        ),
    ],
    ids=[
        "other-team",
        "other-service-same-branch",
        "into-other-team",
        "other-account",
        "unowned-namespace",
        "other-audience",
        "ci-role",
    ],
)
def test_a_drafts_pod_cannot_log_in_outside_its_own_role(
    provisioned, cluster: Cluster, role, namespace, account, audiences, why
) -> None:
    reviews = len(cluster.reviews)
    with pytest.raises(hvac_errors.VaultError, match=why):
        pod_login(provisioned, role, cluster.token(namespace, account, audiences))
    assert len(cluster.reviews) == reviews  # refused by the role's bindings, before any review


def test_a_pipelines_jwt_is_no_draft_identity_and_the_draft_role_no_jwt_role(provisioned) -> None:
    with pytest.raises(hvac_errors.VaultError):
        pod_login(provisioned, "draft.team-a.tasks", provisioned.ci_jwt())
    with pytest.raises(hvac_errors.VaultError, match="could not be found"):
        ci_login(provisioned, "draft.team-a.tasks")


# -- the forms people run -----------------------------------------------------------------


def test_the_printed_bao_commands_create_what_provision_writes(provisioned) -> None:
    request = request_for("team-c", "tasks")
    script = render_commands(provision_writes(request), cli=str(_bao_binary()))
    env = {
        **os.environ,
        "BAO_ADDR": provisioned.address,
        "BAO_TOKEN": "root",
        "VAULT_ADDR": provisioned.address,
    }
    done = subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    root = provisioned.root
    for write in provision_writes(request):
        if write.path.startswith("sys/policies/acl/"):
            assert root.read(write.path)["data"]["policy"] == write.data["policy"]
            continue
        stored = root.read(write.path)["data"]
        assert {key: stored[key] for key in write.data} == write.data, write.path


def invoke(options: dict[str, str], env: dict[str, str]) -> Any:
    args = [part for option in options.items() for part in option]
    return CliRunner().invoke(app, ["vault", "provision", *args], env=env)


TEAM_D = {
    "--team": "team-d",
    "--service": "tasks",
    "--kubernetes-mount": K8S,
    "--ci-bound-claims": '{"project_path": "group/d"}',
}


def test_envctl_vault_provision_with_a_pipeline_token_is_refused_and_changes_nothing(
    provisioned,
) -> None:
    client = ci_login(provisioned, "ci.team-a.tasks")
    env = {"VAULT_ADDR": provisioned.address, "VAULT_TOKEN": str(client.token)}
    try:
        wider = {
            **TEAM_D,
            "--team": "team-a",
            "--ci-bound-claims": '{"project_path": "group/evil"}',
        }
        result = invoke(wider, env)
    finally:
        client.auth.token.revoke_self()
    assert result.exit_code == 2
    assert "denied writing sys/policies/acl/draft.team-a.tasks" in result.output
    stored = provisioned.root.read("auth/jwt/role/ci.team-a.tasks")["data"]
    assert stored["bound_claims"] == {"project_path": "group/app"}


def test_envctl_vault_provision_as_admin_prints_what_pipelines_and_drafts_use(provisioned) -> None:
    env = {"VAULT_ADDR": provisioned.address, "VAULT_TOKEN": "root"}
    result = invoke(
        {**TEAM_D, "--team": "team-a", "--ci-bound-claims": '{"project_path": "group/app"}'}, env
    )
    assert result.exit_code == 0, result.output
    assert f"wrote auth/{K8S}/role/draft.team-a.tasks" in result.output
    assert "VAULT_ROLE=ci.team-a.tasks" in result.output


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--token-ttl", "7200"),
        ("--team", "../prod"),
        ("--service", "Tasks"),
        ("--ci-bound-claims", ""),
        ("--ci-bound-claims", '["group/d"]'),
        ("--ci-bound-claims", '{"project_path": "group/*"}'),
        ("--also-read", "../team-b/tasks"),
        ("--audience", "a,b"),
    ],
)
def test_bad_input_exits_2_naming_the_option_and_writes_nothing(provisioned, option, value) -> None:
    env = {"VAULT_ADDR": provisioned.address, "VAULT_TOKEN": "root"}
    result = invoke({**TEAM_D, option: value}, env)
    assert result.exit_code == 2, result.output
    assert f"error: {option}" in result.output
    with pytest.raises(hvac_errors.InvalidPath):
        provisioned.root.sys.read_policy("draft.team-d.tasks")
