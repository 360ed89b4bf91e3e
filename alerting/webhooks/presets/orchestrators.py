"""Workflow orchestrators: Apache Airflow, Kubeflow Pipelines and Argo Workflows.

- Airflow stable REST API, "Trigger a new DAG run":
  https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html#operation/post_dag_run
  ``POST /api/v1/dags/{dag_id}/dagRuns`` with ``{"dag_run_id", "conf"}`` (``logical_date``
  left to Airflow: now), HTTP Basic or a bearer token; answers 200, and 409 when the
  ``dag_run_id`` is taken, which for us means an earlier attempt created the run.
- Kubeflow Pipelines v2 REST API, RunService.CreateRun:
  https://www.kubeflow.org/docs/components/pipelines/reference/api/kubeflow-pipeline-api-spec/
  and https://github.com/kubeflow/pipelines/blob/master/backend/api/v2beta1/run.proto
  ``POST /apis/v2beta1/runs`` with ``display_name``, ``pipeline_version_reference``
  (``pipeline_id``, optional ``pipeline_version_id``: the latest version when unset),
  ``runtime_config.parameters`` and optionally ``experiment_id``; bearer token; answers 200.
- Argo Workflows server, WorkflowService.SubmitWorkflow:
  https://argo-workflows.readthedocs.io/en/latest/swagger/ (``WorkflowSubmitRequest``,
  ``SubmitOpts``) ``POST /api/v1/workflows/{namespace}/submit`` with ``resourceKind``
  (``WorkflowTemplate`` or ``ClusterWorkflowTemplate``), ``resourceName`` and
  ``submitOptions.parameters`` as ``name=value`` strings; bearer token; answers 200. The
  workflow's name is derived from the ``webhook-id``, so a retry answers 409 (AlreadyExists).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerting.webhooks.presets.base import PresetRequest, auth_headers, compact, segment
from alerting.webhooks.presets.evidence import Evidence

__all__ = ["airflow", "argo_workflows", "kubeflow", "run_name"]

_ALREADY_EXISTS = frozenset({409})


def run_name(prefix: str, message_id: str) -> str:
    """A stable Kubernetes name for the run a message starts: ``prefix-<16 hex>``."""
    stem = prefix[:40].rstrip("-.") or "driftline"
    return f"{stem}-{message_id.removeprefix('msg_')[:16]}"


def airflow(
    options: Mapping[str, Any], secrets: Mapping[str, str], evidence: Evidence
) -> PresetRequest:
    return PresetRequest(
        path=f"/api/v1/dags/{segment(options.get('dag_id'))}/dagRuns",
        body=compact({"dag_run_id": f"driftline_{evidence.message_id}", "conf": evidence.payload}),
        content_type="application/json",
        headers=auth_headers({**options, **secrets}, "username", "password"),
        done_statuses=_ALREADY_EXISTS,
    )


def _display_name(evidence: Evidence) -> str:
    p = evidence.payload
    if not p["model"]:
        return f"Driftline {p['status'] or 'test'}"
    return f"Driftline {p['rule']}: {p['model']} version {p['version']}"


def kubeflow(
    options: Mapping[str, Any], secrets: Mapping[str, str], evidence: Evidence
) -> PresetRequest:
    reference = {"pipeline_id": options.get("pipeline_id")}
    if options.get("pipeline_version_id"):
        reference["pipeline_version_id"] = options["pipeline_version_id"]
    run: dict[str, Any] = {
        "display_name": _display_name(evidence),
        "description": f"Started by Driftline, webhook-id {evidence.message_id}",
        "pipeline_version_reference": reference,
        "runtime_config": {
            "parameters": evidence.flat(upper=False, only=options.get("parameters"))
        },
    }
    if options.get("experiment_id"):
        run["experiment_id"] = options["experiment_id"]
    return PresetRequest(
        path="/apis/v2beta1/runs",
        body=compact(run),
        content_type="application/json",
        headers=auth_headers(secrets),
    )


def argo_workflows(
    options: Mapping[str, Any], secrets: Mapping[str, str], evidence: Evidence
) -> PresetRequest:
    namespace, template = options.get("namespace"), str(options.get("template") or "")
    parameters = evidence.flat(upper=False, only=options.get("parameters"))
    kind = "ClusterWorkflowTemplate" if options.get("cluster_template") else "WorkflowTemplate"
    body = {
        "namespace": namespace,
        "resourceKind": kind,
        "resourceName": template,
        "submitOptions": {
            "name": run_name(template, evidence.message_id),
            "labels": f"driftline/webhook-id={evidence.message_id}",
            "parameters": [f"{name}={value}" for name, value in parameters.items()],
        },
    }
    return PresetRequest(
        path=f"/api/v1/workflows/{segment(namespace)}/submit",
        body=compact(body),
        content_type="application/json",
        headers=auth_headers(secrets),
        done_statuses=_ALREADY_EXISTS,
    )
