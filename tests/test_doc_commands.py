"""The commands in the docs that cannot run inside the test suite, checked statically.

`make test` would run this suite again, and no Docker engine or Kubernetes cluster runs here;
`pip install driftline-sdk` needs the package index. So each command of the blocks claimed by
this module (README.md, docs/integrations.md, sdk/README.md) is checked against what it uses:
make targets dry-run with ``make -n``, Compose services and flags, the Dockerfile's build args
and port, the CLI's commands, settings, Kubernetes objects, the SDK's extras. A command no
checker knows fails the test, so a new kind of command needs a checker here.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url
from typer.main import get_command

from driftline.cli import app
from tests.helpers import setting_exists
from tests.support.docs import ROOT, claimed_blocks

THIS = "tests/test_doc_commands.py"
CLAIMED = {"README.md": 4, "docs/integrations.md": 2, "sdk/README.md": 1}
COMPOSE_UP_FLAGS = {"-d", "--detach", "--build", "--no-build", "--wait", "--force-recreate"}
Command = tuple[dict[str, str], list[str]]


def _commands(block: str) -> Iterator[Command]:
    """(environment assignments, words) of each command line, comments dropped."""
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        env = {}
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            name, value = words.pop(0).split("=", 1)
            env[name] = value
        if words:
            yield env, words


def _cases() -> list[tuple[str, str]]:
    return [(doc, b) for doc in CLAIMED for b in claimed_blocks(doc, THIS, "bash")]


def _check_env(env: dict[str, str]) -> None:
    for name, value in env.items():
        if name.startswith("DRIFTLINE_TEST_"):
            readers = [ROOT / "tests" / "conftest.py", *(ROOT / "tests" / "support").glob("*.py")]
            assert any(name in p.read_text() for p in readers), f"no test reads {name}"
            if name == "DRIFTLINE_TEST_DATABASE_URL":
                assert make_url(value).drivername == "postgresql+psycopg", value
        else:
            assert name.startswith("DRIFTLINE_") and setting_exists(name), f"{name}: no setting"


def _make(words: list[str]) -> None:
    makefile = (ROOT / "Makefile").read_text()
    for word in words[1:]:
        if "=" in word:
            assert f"$({word.split('=')[0]})" in makefile, f"the Makefile never reads {word}"
        else:
            assert re.search(rf"^{re.escape(word)}:", makefile, re.M), f"no make target {word}"
    # A dry run: make parses the file and resolves every prerequisite, running nothing.
    dry = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    expected = {"demo": "driftline demo", "test": "pytest"}
    for target in set(words[1:]) & set(expected):
        assert expected[target] in dry.stdout, dry.stdout


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _docker(words: list[str], images: set[str]) -> None:
    if words[1:3] == ["compose", "up"]:
        flags = {w for w in words[3:] if w.startswith("-")}
        assert flags <= COMPOSE_UP_FLAGS, f"not `docker compose up` flags: {flags}"
        services = [w for w in words[3:] if not w.startswith("-")]
        assert set(services) <= set(_compose()["services"]), services
    elif words[1] == "build":
        options = dict(zip(words[2:-1:2], words[3:-1:2], strict=True))
        assert set(options) <= {"-t", "--build-arg"}, options
        assert (ROOT / words[-1] / "Dockerfile").exists()
        images.add(options["-t"])
        version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
        assert options["-t"].endswith(f":{version}"), "tag the image with the project's version"
    elif words[1] == "run":
        _docker_run(words[2:], images)
    else:
        raise AssertionError(f"no checker for `{shlex.join(words)}`")


def _docker_run(args: list[str], images: set[str]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    while args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "-p":
            container_port = args.pop(0).split(":")[-1]
            assert f"EXPOSE {container_port}" in dockerfile, container_port
        elif flag == "-e":
            _check_env(dict([args.pop(0).split("=", 1)]))
        else:
            assert flag == "--rm", f"unchecked docker run flag {flag}"
    image, command = args[0], args[1:]
    assert image in images, f"{image} is not the image built above"
    assert command[0] in get_command(app).commands, f"`driftline {command[0]}` is no command"  # type: ignore[attr-defined]


def _manifests() -> dict[tuple[str, str], dict[str, Any]]:
    kustomization = yaml.safe_load((ROOT / "deploy/kubernetes/kustomization.yaml").read_text())
    found = {}
    for resource in kustomization["resources"]:
        for doc in yaml.safe_load_all((ROOT / "deploy/kubernetes" / resource).read_text()):
            found[(doc["kind"].lower(), doc["metadata"]["name"])] = doc
    return found


def _kubectl(words: list[str]) -> None:
    directory = ROOT / "deploy/kubernetes"
    namespace = yaml.safe_load((directory / "kustomization.yaml").read_text())["namespace"]
    args = words[1:]
    if args[:2] == ["-n", namespace]:
        args = args[2:]
    if args[:2] == ["apply", "-k"]:
        assert (ROOT / args[2] / "kustomization.yaml").exists(), args[2]
        return
    objects = [w for w in args if "/" in w and not w.startswith("-")]
    assert words[1:3] == ["-n", namespace], f"the objects live in namespace {namespace}"
    assert args[0] in ("wait", "rollout"), f"no checker for `{shlex.join(words)}`"
    for reference in objects:
        kind, name = reference.split("/")
        assert (kind, name) in _manifests(), f"{reference} is not in deploy/kubernetes"
    if args[0] == "wait":
        condition = next(w for w in args if w.startswith("--for="))
        assert condition == "--for=condition=complete" and objects[0].startswith("job/")


def _pip(words: list[str]) -> None:
    project = tomllib.loads((ROOT / "sdk" / "pyproject.toml").read_text())["project"]
    assert words[1] == "install"
    for requirement in words[2:]:
        name, _, extras = requirement.partition("[")
        assert name == project["name"], requirement
        for extra in filter(None, extras.rstrip("]").split(",")):
            assert extra in project["optional-dependencies"], f"no extra {extra}"


CHECKERS: dict[str, Callable[..., None]] = {"make": _make, "kubectl": _kubectl, "pip": _pip}


def test_each_document_claims_its_blocks() -> None:
    for document, count in CLAIMED.items():
        assert len(claimed_blocks(document, THIS, "bash")) == count, f"{document} changed"


@pytest.mark.parametrize(("document", "block"), _cases())
def test_commands_match_the_repository(document: str, block: str) -> None:
    images: set[str] = set()
    for env, words in _commands(block):
        _check_env(env)
        if words[0] == "docker":
            _docker(words, images)
        else:
            assert words[0] in CHECKERS, f"{document}: no checker for `{shlex.join(words)}`"
            CHECKERS[words[0]](words)


def test_the_checkers_catch_mistakes() -> None:
    with pytest.raises(AssertionError):
        _make(["make", "tset"])
    with pytest.raises(AssertionError):
        _docker(["docker", "compose", "up", "-d", "kafak"], set())
    with pytest.raises(AssertionError):
        _kubectl(["kubectl", "-n", "driftline", "rollout", "status", "deployment/driftline"])
    with pytest.raises(AssertionError):
        _pip(["pip", "install", "driftline-sdk[kafak]"])
    with pytest.raises(AssertionError):
        _check_env({"DRIFTLINE_KAFKA__BOOTSTRAP": "x"})
