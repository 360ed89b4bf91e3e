"""The README covers what a newcomer needs (issue #9's list), its configuration table is the
settings model, and docs/runbook.md and docs/security.md match the rules and the code."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from alerting.rules import RuleKind, default_rules
from alerting.silences import SilenceSpec
from driftline.core.settings import Settings

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def _section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section (up to the next heading of level 2)."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section '## {heading}'"
    return match.group(1)


# --- README: every item of the list -----------------------------------------------


def test_readme_has_every_part_a_newcomer_needs() -> None:
    intro = README.split("\n## ", 1)[0]
    assert "```text\n model server" in intro, "what it is: a paragraph and the diagram"
    assert "make demo" in _section(README, "Quickstart") and "make test" in README
    assert "What `make demo` shows" in _section(README, "Quickstart")
    curl = _section(README, "Try it with curl")
    assert "POST localhost:8000/v1/models " in curl and "/reference -H" in curl
    assert 'api.post("/v1/models"' in curl and "/versions/1/reference" in curl  # Python too
    assert "/v1/runs/$RUN" in _section(README, "Read the results")
    sdk = _section(README, "Log predictions from your model server")
    assert "driftline_sdk.integrations.fastapi import Driftline" in sdk
    stack = _section(README, "Metrics, dashboards and the full stack")
    assert "docker compose up" in stack and "Grafana" in stack
    deployment = _section(README, "Deployment")
    for topic in ("partitions", "lease", "PostgreSQL", "DRIFTLINE_DATABASE__POOL_SIZE"):
        assert topic in deployment, f"deployment notes say nothing about {topic}"
    links = set(re.findall(r"\]\((docs/[\w.-]+\.md)\)", _section(README, "Documentation")))
    assert links == {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}


# --- README: the configuration table is the settings model ---------------------------------


def _settings(model: type[BaseModel] = Settings, prefix: str = "DRIFTLINE_") -> dict[str, Any]:
    """DRIFTLINE_SECTION__FIELD -> the field's default, for every field, nested ones too."""
    found: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found |= _settings(annotation, f"{variable}__")
        elif field.default is PydanticUndefined:
            found[variable] = field.default_factory()  # type: ignore[call-arg,misc]
        else:
            found[variable] = field.default
    return found


def _documented() -> dict[str, str]:
    """Variable -> its default cell in README's configuration table. A row may document
    several variables: ``A` / `__B`` share the section of A and take the defaults ``x` / `y``
    in order; ``A`, `__B`` share one default."""
    rows: dict[str, str] = {}
    for line in _section(README, "Configuration").splitlines():
        if not line.startswith("| `DRIFTLINE_"):
            continue
        names, defaults = (cell.strip() for cell in line.strip("|").split(" | ")[:2])
        groups, parts = names.split(" / "), defaults.split(" / ")
        assert len(groups) == len(parts), f"{names}: one default per variable, or one in all"
        section = ""
        for group, default in zip(groups, parts, strict=True):
            for name in re.findall(r"`([A-Z_]+)`", group):
                if name.startswith("__"):
                    name = section + name
                else:
                    section = name.rsplit("__", 1)[0] if "__" in name else ""
                rows[name] = default
    return rows


def _shows(cell: str, value: Any, variable: str, settings: dict[str, Any]) -> bool:
    literal = re.fullmatch(r"`([^`]*)`", cell)
    if value is None:
        # Unset, or a default computed at run time which the field's description states.
        return cell.startswith("unset") or _described_default(variable)
    if isinstance(value, bool):
        return cell == f"`{str(value).lower()}`"
    if isinstance(value, list):
        return cell == "empty" if not value else cell == f"`{','.join(value)}`"
    if isinstance(value, int | float):
        return literal is not None and float(literal.group(1)) == float(value)
    return literal is not None and literal.group(1) == str(value)


def _described_default(variable: str) -> bool:
    section, _, field = variable.removeprefix("DRIFTLINE_").lower().rpartition("__")
    model: Any = Settings.model_fields[section].annotation if section else Settings
    description = model.model_fields[field].description or ""
    return "default" in description.lower()


def test_configuration_table_lists_every_setting_with_its_default() -> None:
    settings, documented = _settings(), _documented()
    missing = sorted(set(settings) - set(documented))
    assert not missing, f"README's configuration table lacks {missing}"
    wrong = {
        v: (documented[v], settings[v])
        for v in settings
        if not _shows(documented[v], settings[v], v, settings)
    }
    assert not wrong, f"README shows defaults that are not the code's (shown, code): {wrong}"


def test_configuration_table_names_only_settings() -> None:
    unknown = sorted(set(_documented()) - set(_settings()))
    assert not unknown, f"README documents settings that do not exist: {unknown}"


def test_the_table_parser_reads_abbreviated_rows() -> None:
    documented = _documented()
    assert documented["DRIFTLINE_AUTH__MAX_JSON_DEPTH"] == "`32`"
    assert documented["DRIFTLINE_KAFKA__SSL_KEYFILE"] == "unset"
    assert _shows("`300000`", 300_000, "x", {}) and not _shows("`30000`", 300_000, "x", {})


# --- docs/runbook.md: a section per alert, each saying what, what to check, how to silence ---

RUNBOOK = (ROOT / "docs" / "runbook.md").read_text()


def _runbook_sections() -> dict[str, str]:
    parts = re.split(r"^## (.+)$", RUNBOOK, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _prometheus_alerts() -> list[dict[str, Any]]:
    rules = yaml.safe_load((ROOT / "prometheus/rules/driftline.rules.yml").read_text())
    return [r for group in rules["groups"] for r in group["rules"] if "alert" in r]


def test_runbook_has_a_section_per_prometheus_alert() -> None:
    sections = _runbook_sections()
    for alert in _prometheus_alerts():
        section = sections[alert["alert"]]
        for part in ("**What:**", "**Check:**", "**Silence:**"):
            assert part in section, f"{alert['alert']}: no {part}"
        assert f"Severity {alert['labels']['severity']}." in " ".join(section.split())
        # The amtool silence matches on labels the alert really has.
        (command,) = re.findall(r"`amtool silence add ([^`]*)`", section)
        words = shlex.split(command)
        matchers = dict(w.split("=", 1) for w in words if not w.startswith("--"))
        grouped = re.findall(r"by \(([^)]*)\)", alert["expr"])
        labels = {"alertname", "severity", *(x.strip() for g in grouped for x in g.split(","))}
        assert matchers["alertname"] == alert["alert"] and set(matchers) <= labels, matchers
        assert {w.split("=")[0] for w in words if w.startswith("--")} == {"--duration", "--comment"}


@pytest.mark.parametrize("rule", default_rules("binary_classification"), ids=lambda r: r.name)
def test_runbook_has_a_section_per_driftline_rule(rule: Any) -> None:
    heading = f"Rule `{rule.name}` (kind `{rule.kind}`)"
    section = _runbook_sections()[heading]
    for part in ("**What:**", "**Check:**", "**Silence:**"):
        assert part in section, f"{heading}: no {part}"
    assert f"Severity {rule.severity}." in " ".join(section.split())
    # The silence shown is a valid request that matches this rule's alerts.
    (body,) = re.findall(r"\*\*Silence:\*\* `(\{.*\})`", section)
    silence = SilenceSpec.model_validate_json(body)
    assert silence.matchers["rule"] == rule.name


def test_runbook_covers_every_rule_kind() -> None:
    kinds = set(re.findall(r"^## Rule `\w+` \(kind `(\w+)`\)$", RUNBOOK, re.M))
    assert kinds == set(get_args(RuleKind))


# --- docs/statistics.md: every monitor option ---------------------------------------------


def test_statistics_doc_names_every_monitor_option() -> None:
    from detectors.config import MonitorConfig

    text = (ROOT / "docs" / "statistics.md").read_text()
    named = re.findall(r"`(\w+)(?:`|: )", text)  # `name` or `name: value`
    missing = [name for name in MonitorConfig.model_fields if name not in named]
    assert not missing, f"docs/statistics.md does not document monitor options {missing}"
