"""Kafka SASL (PLAIN, SCRAM) and TLS settings reach kafka-python, in the collector and the SDK."""

from __future__ import annotations

from typing import Any

import kafka
import pytest
from pydantic import ValidationError

from collector.consumer import kafka_consumer
from driftline.core.settings import KafkaSettings, load_settings
from driftline_sdk._options import resolve_options
from driftline_sdk.transports.kafka import KafkaTransport

PASSWORD = "scram-pw-7c1e"
KNOWN_CONSUMER, KNOWN_PRODUCER = (
    kafka.KafkaConsumer.DEFAULT_CONFIG,
    kafka.KafkaProducer.DEFAULT_CONFIG,
)
SECURE = {
    "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS": "broker-1:9093,broker-2:9093",
    "DRIFTLINE_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
    "DRIFTLINE_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
    "DRIFTLINE_KAFKA__SASL_PLAIN_USERNAME": "driftline",
    "DRIFTLINE_KAFKA__SASL_PLAIN_PASSWORD": PASSWORD,
    "DRIFTLINE_KAFKA__SSL_CAFILE": "/etc/kafka/ca.pem",
    "DRIFTLINE_KAFKA__SSL_CERTFILE": "/etc/kafka/client.pem",
    "DRIFTLINE_KAFKA__SSL_KEYFILE": "/etc/kafka/client.key",
}


class _Captured:
    """Stands in for a kafka-python client class: records its keyword arguments."""

    calls: list[dict[str, Any]] = []

    def __init__(self, **config: Any) -> None:
        self.calls.append(config)

    def subscribe(self, *args: Any, **kwargs: Any) -> None:
        pass


def test_collector_passes_sasl_and_tls_to_kafka_python(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECURE.items():
        monkeypatch.setenv(name, value)
    settings = load_settings().kafka
    assert PASSWORD not in repr(settings)  # a SecretStr until handed to the client
    monkeypatch.setattr(kafka, "KafkaConsumer", _Captured)
    _Captured.calls.clear()
    kafka_consumer(settings, lambda revoked: None)
    (config,) = _Captured.calls
    assert {k: config[k] for k in settings.client_options()} == {
        "bootstrap_servers": ["broker-1:9093", "broker-2:9093"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "driftline",
        "sasl_plain_password": PASSWORD,
        "ssl_cafile": "/etc/kafka/ca.pem",
        "ssl_certfile": "/etc/kafka/client.pem",
        "ssl_keyfile": "/etc/kafka/client.key",
    }
    # Every name is one kafka-python knows (it refuses unknown ones only at connect time).
    assert set(config) <= set(KNOWN_CONSUMER)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_needs_a_mechanism_and_credentials(mechanism: str) -> None:
    with pytest.raises(ValidationError, match="sasl_plain_username and sasl_plain_password"):
        KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism)
    with pytest.raises(ValidationError):
        KafkaSettings(sasl_mechanism="GSSAPI")  # type: ignore[arg-type]
    ok = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism=mechanism,
        sasl_plain_username="u",
        sasl_plain_password="p",  # type: ignore[arg-type]
    )
    assert ok.client_options()["sasl_mechanism"] == mechanism


def test_sdk_passes_kafka_options_to_the_producer(monkeypatch: pytest.MonkeyPatch) -> None:
    security = {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "model-server",
        "sasl_plain_password": PASSWORD,
        "ssl_cafile": "/etc/kafka/ca.pem",
    }
    options = resolve_options(model="fraud", transport="kafka://b:9093", kafka_options=security)
    monkeypatch.setattr(kafka, "KafkaProducer", _Captured)
    _Captured.calls.clear()
    KafkaTransport(options.transport, options)._connect()
    (config,) = _Captured.calls
    assert {k: config[k] for k in security} == security
    assert set(config) <= set(KNOWN_PRODUCER)
