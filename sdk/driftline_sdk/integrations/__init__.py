"""Helpers for common model servers. Each imports its framework only when used."""
