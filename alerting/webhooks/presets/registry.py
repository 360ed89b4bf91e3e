"""The presets by name: building a message's request, and checking an endpoint's base URL.

An endpoint with a preset stores the system's base URL (``https://api.github.com``, your
GitLab, Jenkins, Airflow webserver, Kubeflow Pipelines API or Argo server, with any path
prefix it is served under); the preset appends the documented path. A URL that already holds
that path, or a query, is refused at creation, naming ``url``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from alerting.webhooks.presets.base import PresetError, PresetRequest
from alerting.webhooks.presets.ci import github_actions, gitlab_ci, jenkins
from alerting.webhooks.presets.evidence import Evidence, evidence_of
from alerting.webhooks.presets.orchestrators import airflow, argo_workflows, kubeflow
from driftline.core.errors import FieldProblem, InvalidInputError

__all__ = ["SYSTEMS", "build_request", "check_base_url"]

Builder = Callable[[Mapping[str, Any], Mapping[str, str], Evidence], PresetRequest]

SYSTEMS: dict[str, Builder] = {
    "github_actions": github_actions,
    "gitlab_ci": gitlab_ci,
    "jenkins": jenkins,
    "airflow": airflow,
    "kubeflow": kubeflow,
    "argo_workflows": argo_workflows,
}

# The path each preset appends; a base URL containing it was pasted whole by mistake.
_APPENDED = {
    "github_actions": "/repos/",
    "gitlab_ci": "/api/v4/",
    "jenkins": "/job/",
    "airflow": "/api/v1/",
    "kubeflow": "/apis/v2beta1/",
    "argo_workflows": "/api/v1/",
}


def build_request(
    options: Mapping[str, Any], secrets: Mapping[str, str], body: bytes, message_id: str
) -> PresetRequest:
    """The request for one stored message; :class:`PresetError` when it cannot be built."""
    builder = SYSTEMS.get(str(options.get("system")))
    if builder is None:
        raise PresetError(f"unknown preset {options.get('system')!r}")
    try:
        evidence = evidence_of(body, message_id)
    except ValueError as exc:
        raise PresetError(f"the stored message cannot be read: {exc}") from exc
    return builder(options, secrets, evidence)


def _refuse(reason: str) -> InvalidInputError:
    return InvalidInputError(f"url: {reason}", [FieldProblem("url", reason)])


def check_base_url(system: str, url: str) -> None:
    """Raise :class:`InvalidInputError` (field ``url``) unless ``url`` fits the preset."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise _refuse(f"is not a valid URL ({exc})") from exc
    appended = _APPENDED[system]
    if parts.query or parts.fragment:
        raise _refuse("give the system's base URL, without a query or fragment")
    if appended in parts.path.rstrip("/") + "/":
        raise _refuse(
            f"give the system's base URL: the {system} preset appends the {appended}... path"
        )
    host = (parts.hostname or "").lower()
    if system == "github_actions" and host in ("github.com", "www.github.com"):
        raise _refuse(
            "the GitHub API is https://api.github.com (GitHub Enterprise Server: "
            "https://HOST/api/v3)"
        )
