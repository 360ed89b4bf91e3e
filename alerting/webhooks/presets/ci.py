"""CI systems: GitHub Actions, GitLab CI and Jenkins.

Each function turns a preset's stored options, its decrypted credentials and the message's
evidence into the request the system documents:

- GitHub, "Create a repository dispatch event":
  https://docs.github.com/en/rest/repos/repos#create-a-repository-dispatch-event
  ``POST /repos/{owner}/{repo}/dispatches``, ``{"event_type", "client_payload"}`` (at most
  10 top-level properties, under 64 KB), ``Accept: application/vnd.github+json``,
  ``X-GitHub-Api-Version: 2022-11-28``, ``Authorization: Bearer``; answers 204.
- GitLab, "Trigger a pipeline with a token":
  https://docs.gitlab.com/api/pipeline_triggers/#trigger-a-pipeline-with-a-token and
  https://docs.gitlab.com/ci/triggers/ ``POST /api/v4/projects/:id/trigger/pipeline`` with
  ``token``, ``ref`` and ``variables`` (a map of strings: GitLab answers 400 to anything
  else), here as JSON; ``:id`` is the numeric id or the URL-encoded path; answers 201.
- Jenkins, "Remote Access API": https://www.jenkins.io/doc/book/using/remote-access-api/
  ``POST /job/NAME/buildWithParameters`` (``/job/FOLDER/job/NAME/...`` in folders), the
  parameters form-encoded, a user's API token by HTTP Basic (no CSRF crumb needed with an API
  token) and/or the job's "Trigger builds remotely" token as ``?token=``; answers 201.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from alerting.webhooks.presets.base import PresetError, PresetRequest, auth_headers, compact
from alerting.webhooks.presets.base import segment as seg
from alerting.webhooks.presets.evidence import Evidence

__all__ = ["github_actions", "gitlab_ci", "jenkins"]

GITHUB_API_VERSION = "2022-11-28"


def github_actions(
    options: Mapping[str, Any], secrets: Mapping[str, str], evidence: Evidence
) -> PresetRequest:
    token = secrets.get("token")
    if not token:
        raise PresetError("the GitHub token is missing")
    return PresetRequest(
        path=f"/repos/{seg(options.get('owner'))}/{seg(options.get('repo'))}/dispatches",
        body=compact({"event_type": options.get("event_type"), "client_payload": evidence.payload}),
        content_type="application/json",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
        },
    )


def gitlab_ci(
    options: Mapping[str, Any], secrets: Mapping[str, str], evidence: Evidence
) -> PresetRequest:
    token = secrets.get("token")
    if not token:
        raise PresetError("the GitLab trigger token is missing")
    variables = evidence.flat(upper=True, only=options.get("parameters"))
    return PresetRequest(
        path=f"/api/v4/projects/{seg(str(options.get('project') or ''))}/trigger/pipeline",
        body=compact({"token": token, "ref": options.get("ref"), "variables": variables}),
        content_type="application/json",
    )


def jenkins(
    options: Mapping[str, Any], secrets: Mapping[str, str], evidence: Evidence
) -> PresetRequest:
    job = str(options.get("job") or "")
    path = "".join(f"/job/{seg(part)}" for part in job.split("/")) + "/buildWithParameters"
    job_token = secrets.get("job_token")
    if job_token:
        path += "?" + urlencode({"token": job_token})
    parameters = evidence.flat(upper=True, only=options.get("parameters"))
    return PresetRequest(
        path=path,
        body=urlencode(parameters).encode(),
        content_type="application/x-www-form-urlencoded",
        headers=auth_headers({**options, **secrets}, "user", "api_token"),
    )
