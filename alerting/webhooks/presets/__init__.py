"""Webhook target presets: requests shaped for retraining systems' own APIs.

An endpoint with a ``preset`` still stores and signs Driftline messages like any other
(:mod:`alerting.webhooks.outbox`); at send time the preset turns the stored ``driftline`` body
into the request the system documents: path, query, headers, content type and body, with the
alert's evidence in the system's parameters. Modules: :mod:`.specs` (what the API accepts),
:mod:`.evidence` (the parameters), :mod:`.ci` (GitHub Actions, GitLab CI, Jenkins),
:mod:`.orchestrators` (Airflow, Kubeflow Pipelines, Argo Workflows), :mod:`.registry`.
"""

__all__: list[str] = []
