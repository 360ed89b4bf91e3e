"""Transports: how a batch of contract-v1 events leaves the process."""

from driftline_sdk.transports.base import RetryableError, SendResult, Transport, make_transport

__all__ = ["RetryableError", "SendResult", "Transport", "make_transport"]
