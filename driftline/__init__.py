"""Driftline: monitoring and drift detection for machine-learning models."""

__all__ = ["__version__"]

__version__ = "0.1.0"
