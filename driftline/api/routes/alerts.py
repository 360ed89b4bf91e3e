"""Alert routes: ``/v1/alerts``, acks, ``/v1/silences`` and each model's alert rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Response, status

from alerting import rules as alert_rules
from alerting import silences, views
from alerting.views import AckRequest, AlertRecord
from driftline.api.auth import require_scope
from driftline.api.deps import DatabaseDep
from driftline.core.errors import FieldProblem, InvalidInputError
from driftline.registry.models import load_model_row

router = APIRouter(tags=["alerts"])
# On-call engineers acknowledge and silence with the key they read alerts with: `read`.
# Changing rules is configuration: `admin` (the default guard's rule for writes).
ON_CALL = [Depends(require_scope("read"))]

StateFilter = Literal["inactive", "pending", "firing", "resolved"]
SeverityFilter = Literal["info", "warning", "critical"]


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/v1/alerts", summary="Alerts, newest change first, filtered")
def list_alerts(
    database: DatabaseDep,
    state: StateFilter | None = None,
    model: str | None = None,
    severity: SeverityFilter | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertRecord]:
    with database.read() as session:
        return views.list_alerts(
            session, _now(), state=state, model=model, severity=severity, limit=limit
        )


@router.get("/v1/alerts/{alert_id}", summary="One alert with its state history")
def get_alert(alert_id: int, database: DatabaseDep) -> AlertRecord:
    with database.read() as session:
        return views.get_alert(session, alert_id, _now())


@router.post(
    "/v1/alerts/{alert_id}/ack",
    summary="Acknowledge: no repeats until it resolves",
    dependencies=ON_CALL,
)
def ack_alert(
    alert_id: int, database: DatabaseDep, body: Annotated[AckRequest | None, Body()] = None
) -> AlertRecord:
    with database.write() as session:
        return views.ack_alert(session, alert_id, (body or AckRequest()).by, _now())


@router.post(
    "/v1/silences",
    status_code=status.HTTP_201_CREATED,
    summary="Silence the notifications of matching alerts until an expiry",
    dependencies=ON_CALL,
)
def create_silence(spec: silences.SilenceSpec, database: DatabaseDep) -> silences.SilenceRecord:
    with database.write() as session:
        return silences.create_silence(session, spec, _now())


@router.get("/v1/silences", summary="Silences, newest first")
def list_silences(
    database: DatabaseDep, include_expired: bool = False
) -> list[silences.SilenceRecord]:
    with database.read() as session:
        return silences.list_silences(session, _now(), include_expired=include_expired)


@router.delete("/v1/silences/{silence_id}", summary="Expire a silence now", dependencies=ON_CALL)
def expire_silence(silence_id: int, database: DatabaseDep) -> silences.SilenceRecord:
    with database.write() as session:
        return silences.expire_silence(session, silence_id, _now())


@router.get("/v1/models/{name}/alert-rules", summary="A model's alert rules")
def list_rules(name: str, database: DatabaseDep) -> list[alert_rules.RuleSpec]:
    with database.read() as session:
        return alert_rules.list_rules(session, load_model_row(session, name))


@router.put("/v1/models/{name}/alert-rules/{rule}", summary="Create or replace an alert rule")
def put_rule(
    name: str, rule: str, spec: alert_rules.RuleSpec, database: DatabaseDep
) -> alert_rules.RuleSpec:
    if spec.name != rule:
        raise InvalidInputError(
            "the rule's name differs from the path",
            [FieldProblem("name", f"must be {rule!r}, as in the path")],
        )
    with database.write() as session:
        return alert_rules.put_rule(session, load_model_row(session, name), spec, _now())


@router.delete(
    "/v1/models/{name}/alert-rules/{rule}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an alert rule and its alerts",
)
def delete_rule(name: str, rule: str, database: DatabaseDep) -> Response:
    with database.write() as session:
        alert_rules.delete_rule(session, load_model_row(session, name), rule)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
