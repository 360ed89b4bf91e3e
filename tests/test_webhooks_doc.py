"""docs/webhooks.md's endpoint walkthrough, run as written against a live `driftline up` whose
SSRF allowlist is the document's own example (so a receiver on 127.0.0.1 may be registered)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from alerting.webhooks.ssrf import UnsafeUrlError, check_url
from driftline.core.settings import Settings
from tests.support.docs import claimed_blocks, json_documents, run_bash, user_env
from tests.support.postgres import free_port
from tests.support.service import LiveService, start_service

THIS = "tests/test_webhooks_doc.py"
DOC = "docs/webhooks.md"


def _allowlist() -> str:
    """DRIFTLINE_WEBHOOKS__ALLOWED_HOSTS as the document's line sets it in bash."""
    (block,) = [b for b in claimed_blocks(DOC, THIS, "bash") if "ALLOWED_HOSTS=" in b]
    script = block + '\nprintf %s "$DRIFTLINE_WEBHOOKS__ALLOWED_HOSTS"'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[LiveService]:
    service = start_service(tmp_path, env={"DRIFTLINE_WEBHOOKS__ALLOWED_HOSTS": _allowlist()})
    yield service
    service.stop()


def test_the_allowlist_example_is_read_as_three_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_WEBHOOKS__ALLOWED_HOSTS", _allowlist())
    assert Settings().webhooks.allowed_hosts == ["ci.internal", "10.20.0.0/16", "127.0.0.1"]


def test_endpoint_walkthrough(live_service: LiveService) -> None:
    blocks = claimed_blocks(DOC, THIS, "bash")
    assert len(blocks) == 2, f"{DOC}'s blocks for {THIS} moved; update it"
    # The receiver's address in place of the example's host: allowed only by the allowlist.
    receiver = f"http://127.0.0.1:{free_port()}/hooks/driftline"
    walkthrough = blocks[0].replace("https://ci.example.com/hooks/driftline", receiver)
    env = user_env(live_service.api_key, DRIFTLINE_ADMIN_KEY=live_service.api_key)
    output = run_bash(walkthrough, live_service.port, live_service.directory, env)
    created, listed, one, patched, rotated, test, history, redelivered = json_documents(output)
    assert created["secret"].startswith("whsec_") and created["header_names"] == ["X-CI-Token"]
    shown = re.search(r"^# (\{\"id\":1.*?)\n\n", blocks[0], re.M | re.S)
    assert shown and set(re.findall(r'"(\w+)":', shown.group(1))) <= set(created)
    assert created["url"] == receiver and created["events"] == ["firing"]
    listed = listed if isinstance(listed, list) else listed["webhooks"]
    assert [w["id"] for w in listed] == [1] and "secret" not in listed[0] and "secret" not in one
    assert patched["severities"] == ["warning", "critical"] and patched["enabled"] is True
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert (test["id"], test["event"]) == (1, "test")
    deliveries = history if isinstance(history, list) else history["deliveries"]
    assert [d["id"] for d in deliveries] == [1]
    assert (redelivered["id"], redelivered["status"]) == (1, "pending")
    gone = httpx.get(f"{live_service.url}/v1/webhooks/1", headers=live_service.headers)
    assert gone.status_code == 404


def test_the_receiver_is_allowed_only_by_the_allowlist() -> None:
    receiver = "http://127.0.0.1:9/hooks/driftline"
    with pytest.raises(UnsafeUrlError, match="ALLOWED_HOSTS"):
        check_url(receiver, [])
    allowed = Settings(webhooks={"allowed_hosts": _allowlist()}).webhooks.allowed_hosts
    assert check_url(receiver, allowed).address == "127.0.0.1"
