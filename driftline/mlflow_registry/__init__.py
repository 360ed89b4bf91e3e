"""The MLflow model registry: ``driftline import mlflow`` (signature to feature schema,
version, training data as reference) and results written back as model version tags.

MLflow is an optional extra (``pip install 'driftline[mlflow]'``), imported only here, and
only when used; its usage telemetry is switched off before it is imported.
"""
