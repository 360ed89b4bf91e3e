"""What ``/v1/webhooks`` accepts as ``preset``: one model per system, told apart by ``system``.

Options (owner/repo, project and ref, job, DAG, pipeline, namespace and template) are stored as
given and shown in records. Credentials (``SecretStr`` fields) are write-only: encrypted like
the custom headers, never returned; a record lists their names. Every value that lands in a
URL path or a header is checked here, so a stored preset always builds a valid request.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from alerting.webhooks.presets.evidence import ParameterName

__all__ = [
    "AirflowPreset",
    "ArgoWorkflowsPreset",
    "GitHubActionsPreset",
    "GitLabCIPreset",
    "JenkinsPreset",
    "KubeflowPreset",
    "PresetSpec",
    "split_preset",
]

_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


def _not_dots(value: str) -> str:
    # "." and ".." would walk the URL path up instead of naming something.
    if any(part in (".", "..") for part in value.split("/")):
        raise ValueError("must not contain '.' or '..' as a path segment")
    return value


def _printable(secret: SecretStr) -> SecretStr:
    # Credentials become header values or URL parts: a line break would split the request.
    if re.search(r"[\x00-\x1f\x7f]", secret.get_secret_value()):
        raise ValueError("must not contain control characters or line breaks")
    return secret


Name = Annotated[str, AfterValidator(_not_dots)]
Credential = Annotated[SecretStr, Field(min_length=1, max_length=4096), AfterValidator(_printable)]
Parameters = Annotated[
    list[ParameterName] | None,
    Field(
        None,
        min_length=1,
        description="Only these Driftline parameters (default: all of them; see the docs).",
    ),
]


class _Preset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    SECRETS: ClassVar[tuple[str, ...]] = ()


class GitHubActionsPreset(_Preset):
    """``repository_dispatch`` on ``owner/repo`` (url: ``https://api.github.com``)."""

    SECRETS = ("token",)
    system: Literal["github_actions"]
    owner: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")
    repo: Name = Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")
    event_type: str = Field("driftline-drift", min_length=1, max_length=100)
    token: Credential = Field(description="A token allowed to write the repository's contents.")


class GitLabCIPreset(_Preset):
    """A pipeline trigger on ``ref`` of ``project`` (url: your GitLab, e.g. gitlab.com)."""

    SECRETS = ("token",)
    system: Literal["gitlab_ci"]
    project: Name = Field(
        pattern=r"^[A-Za-z0-9_.][A-Za-z0-9_./-]{0,254}$",
        description="Numeric id or full path (group/project).",
    )
    ref: str = Field(min_length=1, max_length=255, pattern=r"^[^\s\x00-\x1f]+$")
    token: Credential = Field(description="The project's pipeline trigger token.")
    parameters: Parameters


class JenkinsPreset(_Preset):
    """``buildWithParameters`` of ``job`` (``folder/name`` inside folders)."""

    SECRETS = ("api_token", "job_token")
    system: Literal["jenkins"]
    job: Name = Field(pattern=r"^[^/\x00-\x1f]+(/[^/\x00-\x1f]+)*$", max_length=512)
    user: str | None = Field(None, min_length=1, max_length=256, pattern=r"^[^:\x00-\x1f]+$")
    api_token: Credential | None = Field(None, description="The user's API token (Basic).")
    job_token: Credential | None = Field(None, description="Trigger builds remotely: token.")
    parameters: Parameters

    @model_validator(mode="after")
    def _authenticated(self) -> JenkinsPreset:
        if (self.user is None) != (self.api_token is None):
            raise ValueError("user and api_token go together")
        if self.api_token is None and self.job_token is None:
            raise ValueError("give user and api_token, or job_token, or both")
        return self


class AirflowPreset(_Preset):
    """A DAG run of ``dag_id`` through the stable REST API (url: the webserver)."""

    SECRETS = ("password", "token")
    system: Literal["airflow"]
    dag_id: Name = Field(pattern=r"^[A-Za-z0-9_.-]{1,250}$")
    username: str | None = Field(None, min_length=1, max_length=256, pattern=r"^[^:\x00-\x1f]+$")
    password: Credential | None = None
    token: Credential | None = Field(None, description="Bearer token, instead of Basic.")

    @model_validator(mode="after")
    def _one_scheme(self) -> AirflowPreset:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.password is not None and self.token is not None:
            raise ValueError("give username and password, or token, not both")
        return self


class KubeflowPreset(_Preset):
    """A run of a pipeline (version) through the v2beta1 API (url: the API, e.g. ml-pipeline
    or ``https://kubeflow.example.com/pipeline``)."""

    SECRETS = ("token",)
    system: Literal["kubeflow"]
    pipeline_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    pipeline_version_id: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    experiment_id: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    token: Credential | None = Field(None, description="Bearer token (e.g. a service account's).")
    parameters: Parameters


class ArgoWorkflowsPreset(_Preset):
    """A workflow submitted from ``template`` in ``namespace`` (url: the Argo server)."""

    SECRETS = ("token",)
    system: Literal["argo_workflows"]
    namespace: str = Field(pattern=_DNS_LABEL)
    template: str = Field(max_length=253, pattern=_DNS_SUBDOMAIN)
    cluster_template: bool = Field(False, description="A ClusterWorkflowTemplate.")
    token: Credential | None = Field(None, description="Bearer token, without 'Bearer '.")
    parameters: Parameters


PresetSpec = Annotated[
    GitHubActionsPreset
    | GitLabCIPreset
    | JenkinsPreset
    | AirflowPreset
    | KubeflowPreset
    | ArgoWorkflowsPreset,
    Field(discriminator="system"),
]


def split_preset(spec: _Preset) -> tuple[dict[str, Any], dict[str, str]]:
    """(options to store in the clear, credentials to encrypt)."""
    options = spec.model_dump(mode="json", exclude=set(spec.SECRETS))
    secrets: dict[str, str] = {}
    for name in spec.SECRETS:
        value = getattr(spec, name)
        if value is not None:
            secrets[name] = value.get_secret_value()
    return options, secrets
