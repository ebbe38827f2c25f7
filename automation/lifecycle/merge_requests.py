"""Merge requests (GitLab) and pull requests (GitHub) over their REST APIs with httpx.

* ``ReviewThread``: one MR/PR; ``upsert_comment`` finds envctl's comment — the hidden
  marker, written by the token's own user (``GET /user``; GitHub's Actions token, which
  may not read it, is ``github-actions[bot]``) — and edits it in place, or creates it.
  A note of anyone else is never edited, even with the marker; an edit refused with HTTP
  403 (a rotated token of another user) is reported and a new note is posted.
  ``set_label`` adds or removes a label.
* ``ReviewStates``: for the reaper, whether a branch's MR/PR is closed or merged.

GitLab needs a token that may write notes (``ENVCTL_GITLAB_TOKEN`` or ``GITLAB_TOKEN``: a
project access token with the ``api`` scope; ``CI_JOB_TOKEN`` cannot write notes). GitHub
uses ``GITHUB_TOKEN`` with ``pull-requests: write`` and ``issues: write``.
Every HTTP failure becomes ``OperationFailed`` naming the request, never the token.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from automation.lifecycle.ci_env import CiContext
from automation.lifecycle.errors import OperationFailed
from automation.lifecycle.report import MARKER

TIMEOUT = httpx.Timeout(20.0)
PAGE_SIZE = 100
MAX_PAGES = 50


class ReviewThread(Protocol):
    """One merge/pull request envctl reports to."""

    def upsert_comment(self, body: str) -> str:
        """Edit envctl's comment in place or create it; returns ``updated`` or ``created``."""
        ...

    def set_label(self, name: str, present: bool) -> None:
        """Add (``present``) or remove the label."""
        ...


class ReviewStates(Protocol):
    """Looks up the merge/pull requests of a branch."""

    def closed(self, branch: str) -> bool | None:
        """True: it has some and none is open; False: one is open; None: it has none."""
        ...


GITHUB_ACTIONS_BOT = "github-actions[bot]"


class ApiError(OperationFailed):
    """An API request answered with an error status (``status``)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _send(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = client.request(method, url, **kwargs)
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        code = exc.response.status_code
        raise ApiError(f"{method} {exc.request.url.path} returned HTTP {code}", code) from None
    except httpx.HTTPError as exc:
        raise OperationFailed(
            f"{method} {url.split('?')[0]} failed ({type(exc).__name__})"
        ) from None
    return response


def _is_ours(comment: Mapping[str, Any], author: str, me: str | int) -> bool:
    """The marker, written by ``me`` (the token's user, by id or login under ``author``)."""
    body = comment.get("body")
    who = comment.get(author) or {}
    mine = who.get("id") == me if isinstance(me, int) else who.get("login") == me
    return isinstance(body, str) and body.lstrip().startswith(MARKER) and mine


def _edit_or_post(client: httpx.Client, edit: tuple[str, str] | None, post: str, body: str) -> str:
    """PUT/PATCH our note, or POST a new one when there is none or the edit is refused."""
    if edit is not None:
        method, url = edit
        try:
            _send(client, method, url, json={"body": body})
            return "updated"
        except ApiError as exc:
            if exc.status != 403:
                raise
            _send(client, "POST", post, json={"body": body})
            return (
                f"created: editing envctl's earlier comment was refused ({exc}; the token may "
                "not edit it, e.g. after a token rotation), so a new comment was posted"
            )
    _send(client, "POST", post, json={"body": body})
    return "created"


class GitLabMergeRequest:
    """A GitLab merge request: notes and labels through the v4 API."""

    def __init__(self, client: httpx.Client, project: str, iid: int) -> None:
        self.client = client
        self.base = f"projects/{quote(project, safe='')}/merge_requests/{iid}"

    def _notes(self) -> Iterator[dict[str, Any]]:
        page: str | None = "1"
        for _ in range(MAX_PAGES):
            if not page:
                return
            params = {"per_page": PAGE_SIZE, "page": page, "sort": "asc", "order_by": "created_at"}
            response = _send(self.client, "GET", f"{self.base}/notes", params=params)
            yield from response.json()
            page = response.headers.get("x-next-page")

    def upsert_comment(self, body: str) -> str:
        me = int(_send(self.client, "GET", "user").json()["id"])
        edit = next(
            (
                ("PUT", f"{self.base}/notes/{note['id']}")
                for note in self._notes()
                if not note.get("system") and _is_ours(note, "author", me)
            ),
            None,
        )
        return _edit_or_post(self.client, edit, f"{self.base}/notes", body)

    def set_label(self, name: str, present: bool) -> None:
        field = "add_labels" if present else "remove_labels"
        _send(self.client, "PUT", self.base, json={field: name})


class GitHubPullRequest:
    """A GitHub pull request: issue comments and labels through the REST API."""

    def __init__(
        self, client: httpx.Client, repository: str, number: int, actions_token: bool = True
    ) -> None:
        self.client = client
        self.issue = f"repos/{repository}/issues/{number}"
        self.repository = repository
        self.actions_token = actions_token

    def _me(self) -> str:
        """The token's login; the Actions token (which may not read /user) is the bot's."""
        try:
            return str(_send(self.client, "GET", "user").json()["login"])
        except ApiError as exc:
            if exc.status in (403, 404) and self.actions_token:
                return GITHUB_ACTIONS_BOT
            raise

    def _comments(self) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self.issue}/comments"
        params: dict[str, Any] | None = {"per_page": PAGE_SIZE}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = _send(self.client, "GET", url, params=params)
            yield from response.json()
            url = response.links.get("next", {}).get("url")
            params = None  # the next link carries its own query

    def upsert_comment(self, body: str) -> str:
        me = self._me()
        edit = next(
            (
                ("PATCH", f"repos/{self.repository}/issues/comments/{comment['id']}")
                for comment in self._comments()
                if _is_ours(comment, "user", me)
            ),
            None,
        )
        return _edit_or_post(self.client, edit, f"{self.issue}/comments", body)

    def set_label(self, name: str, present: bool) -> None:
        if present:
            _send(self.client, "POST", f"{self.issue}/labels", json={"labels": [name]})
            return
        try:
            _send(self.client, "DELETE", f"{self.issue}/labels/{quote(name, safe='')}")
        except OperationFailed as exc:
            if "HTTP 404" not in str(exc):  # the label was not there: nothing to remove
                raise


class GitLabBranches:
    """Merge request states of a GitLab project, by source branch."""

    def __init__(self, client: httpx.Client, project: str) -> None:
        self.client = client
        self.base = f"projects/{quote(project, safe='')}/merge_requests"

    def open_iid(self, branch: str) -> int | None:
        params = {"source_branch": branch, "state": "opened", "per_page": 1}
        found = _send(self.client, "GET", self.base, params=params).json()
        return int(found[0]["iid"]) if found else None

    def closed(self, branch: str) -> bool | None:
        params = {"source_branch": branch, "state": "all", "per_page": PAGE_SIZE}
        found = _send(self.client, "GET", self.base, params=params).json()
        if not found:
            return None
        return all(mr.get("state") in ("closed", "merged") for mr in found)


class GitHubBranches:
    """Pull request states of a GitHub repository, by head branch."""

    def __init__(self, client: httpx.Client, repository: str) -> None:
        self.client = client
        self.repository = repository
        self.owner = repository.split("/", 1)[0]

    def _pulls(self, branch: str, state: str) -> list[dict[str, Any]]:
        params = {"head": f"{self.owner}:{branch}", "state": state, "per_page": PAGE_SIZE}
        result: list[dict[str, Any]] = _send(
            self.client, "GET", f"repos/{self.repository}/pulls", params=params
        ).json()
        return result

    def open_number(self, branch: str) -> int | None:
        found = self._pulls(branch, "open")
        return int(found[0]["number"]) if found else None

    def closed(self, branch: str) -> bool | None:
        found = self._pulls(branch, "all")
        if not found:
            return None
        return all(pr.get("state") == "closed" for pr in found)


def gitlab_client(env: Mapping[str, str]) -> tuple[httpx.Client, str] | None:
    """An API client and project id for GitLab CI, or None when a token or id is missing."""
    token = env.get("ENVCTL_GITLAB_TOKEN") or env.get("GITLAB_TOKEN")
    api = env.get("CI_API_V4_URL")
    project = env.get("CI_PROJECT_ID")
    if not (token and api and project):
        return None
    headers = {"PRIVATE-TOKEN": token}
    return httpx.Client(base_url=api.rstrip("/") + "/", headers=headers, timeout=TIMEOUT), project


def github_client(env: Mapping[str, str]) -> tuple[httpx.Client, str] | None:
    """An API client and ``owner/repo`` for GitHub Actions, or None when a token is missing."""
    token = env.get("ENVCTL_GITHUB_TOKEN") or env.get("GITHUB_TOKEN")
    repository = env.get("GITHUB_REPOSITORY")
    if not (token and repository):
        return None
    api = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/") + "/"
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    return httpx.Client(base_url=api, headers=headers, timeout=TIMEOUT), repository


def review_thread(
    ci: CiContext, env: Mapping[str, str], branch: str
) -> tuple[ReviewThread, httpx.Client] | None:
    """The MR/PR of ``branch`` in this pipeline (and its client to close), or None."""
    if ci.platform == "gitlab" and (found := gitlab_client(env)):
        client, project = found
        iid = ci.pull_number or GitLabBranches(client, project).open_iid(branch)
        if iid is not None:
            return GitLabMergeRequest(client, project, iid), client
        client.close()
    elif ci.platform == "github" and (found := github_client(env)):
        client, repository = found
        number = ci.pull_number or GitHubBranches(client, repository).open_number(branch)
        if number is not None:
            actions_token = not env.get("ENVCTL_GITHUB_TOKEN")
            return GitHubPullRequest(client, repository, number, actions_token), client
        client.close()
    return None


def review_states(
    ci: CiContext, env: Mapping[str, str]
) -> tuple[ReviewStates, httpx.Client] | None:
    """Branch -> MR/PR state lookups for the reaper, or None outside GitLab/GitHub."""
    if ci.platform == "gitlab" and (found := gitlab_client(env)):
        return GitLabBranches(found[0], found[1]), found[0]
    if ci.platform == "github" and (found := github_client(env)):
        return GitHubBranches(found[0], found[1]), found[0]
    return None
