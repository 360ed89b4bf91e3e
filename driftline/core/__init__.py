"""Shared core: settings, errors, the event contract and storage.

Nothing in here imports the API, the collector, the scheduler or the domain services.
"""
