"""One-shot setup of the docker-compose stack (``python -m examples.compose_setup``).

Registers the example model with its training data as reference, and the retraining receiver
as a webhook endpoint; the endpoint's signing secret (shown once by the API) goes to
``SECRET_FILE``, where the receiver's container waits for it. Run again, it changes nothing.
Standard library only, besides the example model's schema.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from examples.model_server.data import model_schema

__all__ = ["main"]


def _call(method: str, url: str, body: bytes | None = None, ctype: str = "") -> Any:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", f"Bearer {os.environ['API_KEY']}")
    if ctype:
        request.add_header("Content-Type", ctype)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def _wait(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def main() -> None:
    api = os.environ.get("API_URL", "http://api:8000")
    model_server = os.environ.get("MODEL_SERVER_URL", "http://model-server:8001")
    receiver = os.environ.get("RECEIVER_URL", "http://retraining-receiver:9000/retrain")
    secret_file = Path(os.environ.get("SECRET_FILE", "/shared/webhook-secret"))
    name = os.environ.get("MODEL_NAME", "credit-scoring")
    _wait(f"{api}/readyz")
    _wait(f"{model_server}/healthz")
    try:
        _call(
            "POST", f"{api}/v1/models", json.dumps(model_schema(name)).encode(), "application/json"
        )
        with urllib.request.urlopen(f"{model_server}/training-data.csv", timeout=60) as response:
            csv = response.read()
        _call("POST", f"{api}/v1/models/{name}/versions/1/reference?format=csv", csv, "text/csv")
        print(f"registered {name} with its training data as reference")
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # 409: registered by an earlier run
            raise
    if secret_file.exists():
        return  # the receiver already has the secret of the endpoint an earlier run created
    found = [e for e in _call("GET", f"{api}/v1/webhooks") if e["name"] == "retraining"]
    if found:  # the secret file was lost with its volume: a new secret, shown once
        created = _call("POST", f"{api}/v1/webhooks/{found[0]['id']}/rotate-secret")
    else:
        body = json.dumps({"url": receiver, "name": "retraining"}).encode()
        created = _call("POST", f"{api}/v1/webhooks", body, "application/json")
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    secret_file.write_text(created["secret"])
    print(f"webhook endpoint {created['id']} -> {receiver}; secret in {secret_file}")


if __name__ == "__main__":
    main()
