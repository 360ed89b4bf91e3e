"""Ingest: conform events to their model's schema and store them idempotently.

Shared by the HTTP API and the Kafka collector, so both treat input the same way.
"""
