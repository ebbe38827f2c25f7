"""Temporary Vault credentials against a real OpenBao server (marker ``vault``)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import hvac
import pytest
import respx
from hvac import exceptions as hvac_errors

from automation.lifecycle.errors import BadInput
from automation.lifecycle.redact import Redactor
from automation.lifecycle.vault import (
    MAX_TOKEN_TTL_SECONDS,
    TokenInfo,
    VaultLogin,
    login_from_env,
    secret_path,
    vault_session,
)
from tests.lifecycle.conftest import TEAM_A_SECRETS

pytestmark = pytest.mark.vault
GOOD, BAD = "1111111aaaa", "2222222bbbb"


@dataclass(frozen=True)
class Fetched:
    path: str
    values: dict[str, str]
    token: TokenInfo
    revoked: bool


def fetch_draft_secrets(
    login: VaultLogin,
    team: str,
    service: str,
    redact: Redactor,
    kv_mount: str = "draft",
    max_ttl: int = MAX_TOKEN_TTL_SECONDS,
) -> Fetched:
    """What `envctl draft up` does with Vault before the update: log in, read, revoke."""
    path = secret_path(kv_mount, team, service)
    with vault_session(login, redact, max_ttl) as session:
        values = session.read(kv_mount, team, service, redact)
    return Fetched(path, values, session.info, session.revoked)


def approle(openbao, role: str) -> VaultLogin:
    login = login_from_env({"VAULT_ADDR": openbao.address, **openbao.role_credentials(role)})
    assert login is not None
    return login


def test_approle_login_reads_the_team_secrets_and_revokes_the_token(openbao) -> None:
    before = openbao.live_accessors()
    fetched = fetch_draft_secrets(approle(openbao, "team-a"), "team-a", "tasks", Redactor())

    assert fetched.values == {"DB_PASSWORD": "pw-team-a-7Hq2", "API_KEY": "key-team-a-91Zx"}
    assert fetched.path == "draft/team-a/tasks"
    assert 0 < fetched.token.ttl <= 3600
    assert fetched.revoked
    with pytest.raises(hvac_errors.VaultError):
        openbao.root.auth.token.lookup_accessor(fetched.token.accessor)
    assert openbao.live_accessors() <= before


def test_jwt_login_with_the_ci_identity_token(openbao) -> None:
    env = {
        "VAULT_ADDR": openbao.address,
        "VAULT_ID_TOKEN": openbao.ci_jwt(),
        "VAULT_ROLE": "draft-team-a",
    }
    login = login_from_env(env)
    assert login is not None and login.method == "jwt"

    fetched = fetch_draft_secrets(login, "team-a", "tasks", Redactor())

    assert fetched.values["DB_PASSWORD"] == "pw-team-a-7Hq2"
    assert fetched.token.explicit_max_ttl == 3600
    with pytest.raises(hvac_errors.VaultError):
        openbao.root.auth.token.lookup_accessor(fetched.token.accessor)


def test_github_oidc_token_is_fetched_then_used_for_the_jwt_login(openbao) -> None:
    jwt = openbao.ci_jwt()
    request_url = "http://127.0.0.1:9/token?api-version=2.0"
    with respx.mock(assert_all_called=True) as router:
        route = router.get(url__startswith="http://127.0.0.1:9/token").mock(
            return_value=httpx.Response(200, json={"count": 1, "value": jwt})
        )
        login = login_from_env(
            {
                "VAULT_ADDR": openbao.address,
                "VAULT_ROLE": "draft-team-a",
                "ACTIONS_ID_TOKEN_REQUEST_URL": request_url,
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-request-token",
                "VAULT_JWT_AUDIENCE": "vault",
            }
        )
    sent = route.calls.last.request
    assert sent.url.params["audience"] == "vault"
    assert sent.headers["authorization"] == "bearer runner-request-token"
    assert login is not None
    assert fetch_draft_secrets(login, "team-a", "tasks", Redactor()).values


def test_a_jwt_from_another_project_is_refused_as_bad_configuration(openbao) -> None:
    env = {
        "VAULT_ADDR": openbao.address,
        "VAULT_ID_TOKEN": openbao.ci_jwt(),
        "VAULT_ROLE": "other-project",
    }
    login = login_from_env(env)
    assert login is not None
    with pytest.raises(BadInput, match="refused the VAULT_ID_TOKEN login"):
        fetch_draft_secrets(login, "team-a", "tasks", Redactor())


def test_reading_another_teams_path_is_denied_and_the_token_still_revoked(openbao) -> None:
    before = openbao.live_accessors()
    with pytest.raises(BadInput, match="denied reading draft/team-b/tasks") as denied:
        fetch_draft_secrets(approle(openbao, "team-a"), "team-b", "tasks", Redactor())
    assert "pw-team-b" not in str(denied.value)
    assert openbao.live_accessors() <= before


@pytest.mark.parametrize(
    ("role", "why"),
    [
        ("week-long", "TTL is 604800s"),
        ("uncapped", "renewable without a hard cap"),
        ("periodic", "periodic"),
    ],
)
def test_tokens_that_can_outlive_an_hour_are_refused_and_revoked(openbao, role, why) -> None:
    before = openbao.live_accessors()
    with pytest.raises(BadInput, match=why) as refused:
        fetch_draft_secrets(approle(openbao, role), "team-a", "tasks", Redactor())
    assert "pw-team-a" not in str(refused.value)
    assert openbao.live_accessors() <= before


def test_a_stricter_configured_ttl_refuses_a_one_hour_token(openbao) -> None:
    with pytest.raises(BadInput, match="above the limit of 600s"):
        fetch_draft_secrets(approle(openbao, "team-a"), "team-a", "tasks", Redactor(), max_ttl=600)


def test_batch_tokens_are_short_enough_and_expire_on_their_own(openbao) -> None:
    fetched = fetch_draft_secrets(approle(openbao, "batch"), "team-a", "tasks", Redactor())
    assert fetched.values and fetched.token.token_type == "batch"
    assert fetched.token.ttl <= 3600


def test_a_missing_secret_path_reads_as_no_secrets(openbao) -> None:
    openbao.root.sys.create_or_update_policy(
        "draft-team-a",
        'path "draft/data/team-a/*" { capabilities = ["read"] }',
    )
    try:
        fetched = fetch_draft_secrets(approle(openbao, "team-a"), "team-a", "billing", Redactor())
    finally:
        openbao.root.sys.create_or_update_policy(
            "draft-team-a", 'path "draft/data/team-a/tasks" { capabilities = ["read"] }'
        )
    assert fetched.values == {}


def test_a_wrong_secret_id_names_the_method_not_the_secret(openbao) -> None:
    creds = openbao.role_credentials("team-a")
    login = login_from_env(
        {
            "VAULT_ADDR": openbao.address,
            "VAULT_ROLE_ID": creds["VAULT_ROLE_ID"],
            "VAULT_SECRET_ID": "00000000-1111-2222-3333-444444444444",
        }
    )
    assert login is not None
    with pytest.raises(BadInput, match="AppRole login") as refused:
        fetch_draft_secrets(login, "team-a", "tasks", Redactor())
    assert "00000000-1111" not in str(refused.value)


@pytest.fixture
def registry_login(openbao):
    """team-a/tasks also holds the registry login a build pushes with (restored after)."""
    extra = {"registryUsername": "ci-pusher", "registryPassword": "push-pw-3Gx9"}
    openbao.root.secrets.kv.v2.patch("team-a/tasks", extra, mount_point="draft")
    yield extra
    openbao.root.secrets.kv.v2.create_or_update_secret(
        "team-a/tasks", TEAM_A_SECRETS, mount_point="draft"
    )


def test_draft_up_hands_only_the_keys_the_program_uses_and_only_as_secret_config(
    openbao, envctl, monkeypatch, registry_login
) -> None:
    use_approle(openbao, monkeypatch)
    result = envctl(
        "draft",
        "up",
        "--branch",
        "feature/login",
        "--sha",
        "abc1234def",
        "--team",
        "team-a",
        "--dotenv",
        "draft.env",
    )

    assert result.exit_code == 0, result.output
    config = envctl.fake.stacks["draft-feature-login"].config
    assert config["draft:secrets"].secret
    # the build's registry login; the app's own keys stay in Vault (External Secrets syncs them)
    assert json.loads(config["draft:secrets"].value) == registry_login
    assert "2 of the 2 secrets the deploy uses" in result.output
    written = Path("envctl-draft.json").read_text() + Path("draft.env").read_text()
    history = str(envctl.fake.history("draft-feature-login"))
    for secret in ("push-pw-3Gx9", "pw-team-a-7Hq2", "key-team-a-91Zx"):
        assert secret not in result.output
        assert secret not in written
        assert secret not in history


def test_draft_up_with_a_week_long_role_exits_2_before_touching_any_stack(
    openbao, envctl, monkeypatch
) -> None:
    for name, value in {
        "VAULT_ADDR": openbao.address,
        **openbao.role_credentials("week-long"),
    }.items():
        monkeypatch.setenv(name, value)
    result = envctl(
        "draft", "up", "--branch", "feature/login", "--sha", "abc1234", "--team", "team-a"
    )
    assert result.exit_code == 2
    assert "TTL is 604800s" in result.output
    assert envctl.fake.calls_of("create_stack") == []
    assert envctl.fake.calls_of("up") == []


# -- the token reads, is revoked, and no Pulumi process ever gets it --------------------


def use_approle(openbao, monkeypatch, role: str = "team-a") -> None:
    for name, value in {"VAULT_ADDR": openbao.address, **openbao.role_credentials(role)}.items():
        monkeypatch.setenv(name, value)


def alive(openbao, token: str) -> bool:
    try:
        hvac.Client(url=openbao.address, token=token).auth.token.lookup_self()
    except hvac_errors.Forbidden:
        return False
    return True


def test_the_token_is_revoked_before_the_update_which_never_sees_it(
    openbao, envctl, monkeypatch, registry_login
) -> None:
    use_approle(openbao, monkeypatch)
    before = openbao.live_accessors()
    seen: list[tuple[dict[str, str], set[str]]] = []
    original = envctl.fake.up

    def watched(name, *args, **kwargs):
        seen.append((dict(envctl.fake.env), openbao.live_accessors() - before))
        return original(name, *args, **kwargs)

    envctl.fake.up = watched
    result = envctl("draft", "up", "--branch", "feature/login", "--sha", GOOD, "--team", "team-a")

    assert result.exit_code == 0, result.output
    ((env, new_tokens),) = seen
    assert "VAULT_TOKEN" not in env and "VAULT_ADDR" not in env
    assert new_tokens == set()  # envctl's token was already revoked when the update began
    assert "now revoked" in result.output


def test_a_prebuilt_draft_up_does_not_log_in_to_vault(openbao, envctl, monkeypatch) -> None:
    use_approle(openbao, monkeypatch)
    before = openbao.live_accessors()
    result = envctl(
        "draft", "up", "--branch", "feature/login", "--sha", GOOD, "--team", "team-a",
        "--set", "draft:image.prebuilt=true",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "vault: not needed" in result.output
    assert "draft:secrets" not in envctl.fake.stacks["draft-feature-login"].config
    assert openbao.live_accessors() == before


def test_the_token_is_renewed_while_a_long_operation_runs(openbao) -> None:
    login = approle(openbao, "short-lived")  # TTL 3 s, renewable up to 60 s
    with vault_session(login, Redactor()) as session, session.kept_alive():
        token = session.pulumi_env()["VAULT_TOKEN"]
        time.sleep(5)
        assert alive(openbao, token)
    assert session.revoked and not alive(openbao, token)
