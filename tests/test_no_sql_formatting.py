"""No SQL is built by string formatting: request data reaches the database only as bound
parameters, and feature names are data (JSON keys, row values), never identifiers.

The test reads every module's syntax tree and flags f-strings, ``%`` and ``.format`` whose
literal text looks like SQL, and ``text()`` / ``exec_driver_sql()`` / ``execute()`` given
anything but a literal. The few exceptions build statements from the ORM's own table and
column names and are listed with why.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ["driftline", "collector", "detectors", "alerting", "dashboards", "sdk/driftline_sdk"]
SQL = re.compile(
    r"\b(SELECT|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|CREATE\s+(TEMP\s+)?TABLE|DROP|"
    r"ALTER\s+TABLE|TRUNCATE|PRAGMA|COPY|LOCK\s+TABLE|WHERE|VALUES)\b"
)
SQL_CALLS = {"text", "exec_driver_sql", "execute", "executemany", "copy"}

# (file, what the formatting inserts): each reviewed; none of it comes from a request.
ALLOWED = {
    ("driftline/core/storage/bulk.py", "staging"): "a temp table name made from the ORM table",
    ("driftline/core/storage/bulk.py", "names"): "column names from the ORM table",
    ("driftline/core/storage/bulk.py", "table.name"): "the ORM table's name",
    ("driftline/core/storage/bulk.py", "target"): "the staging table's name",
    ("driftline/core/storage/bulk.py", "marks"): "one '?' placeholder per column",
    ("driftline/core/storage/bulk.py", "registry"): "the id registry table named in ORM info",
    ("driftline/core/storage/bulk.py", "lock"): "the id registry table named in ORM info",
    ("driftline/core/storage/database.py", "int(busy_timeout_ms)"): "an int from the settings",
}


def _modules() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations/versions" not in str(path)  # static DDL, written by hand
    ]


def _literal_text(node: ast.AST) -> str:
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def _inserted(node: ast.AST) -> list[str]:
    """Source of the expressions a formatting node inserts."""
    if isinstance(node, ast.JoinedStr):
        return [ast.unparse(v.value) for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp):
        return [ast.unparse(node.right)]
    if isinstance(node, ast.Call):
        return [ast.unparse(a) for a in [*node.args, *(k.value for k in node.keywords)]]
    return []


def _formatted_sql(tree: ast.AST) -> list[tuple[int, list[str]]]:
    found = []
    for node in ast.walk(tree):
        text = ""
        if not hasattr(node, "lineno"):
            continue
        if isinstance(node, ast.JoinedStr):
            text = _literal_text(node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
            text = _literal_text(node.left) + _literal_text(node.right)
            if not _inserted(node) or isinstance(node.right, ast.Constant):
                text = "" if isinstance(node.op, ast.Add) else text
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
        ):
            text = _literal_text(node.func.value)
        if text and SQL.search(text) and _inserted(node):
            found.append((node.lineno, _inserted(node)))
    return sorted(found)


def _non_literal_sql_calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        name = node.func.id if isinstance(node.func, ast.Name) else name
        first = node.args[0]
        if name in SQL_CALLS and isinstance(first, ast.JoinedStr | ast.BinOp):
            found.append((node.lineno, ast.unparse(first)))
    return sorted(found)


def test_no_sql_is_built_from_data_by_string_formatting() -> None:
    offences = []
    for path in _modules():
        relative = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(), filename=relative)
        for line, inserted in _formatted_sql(tree):
            unreviewed = [e for e in inserted if (relative, e) not in ALLOWED]
            if unreviewed:
                offences.append(f"{relative}:{line} formats {unreviewed} into SQL")
        for line, source in _non_literal_sql_calls(tree):
            inserted = _inserted(ast.parse(source, mode="eval").body)
            if any((relative, e) not in ALLOWED for e in inserted):
                offences.append(f"{relative}:{line} runs a formatted statement: {source[:80]}")
    assert offences == [], "use bound parameters (sqlalchemy) instead:\n" + "\n".join(offences)


def test_the_check_catches_formatting() -> None:
    bad = ast.parse(
        "session.execute(text(f\"SELECT * FROM events WHERE model = '{name}'\"))\n"
        "cursor.execute(\"DELETE FROM models WHERE name = '%s'\" % name)\n"
        'query = "UPDATE models SET name = {}".format(name)\n'
    )
    assert [line for line, _ in _formatted_sql(bad)] == [1, 2, 3]
    assert [line for line, _ in _non_literal_sql_calls(bad)] == [1, 2]
    good = ast.parse('session.execute(text("SELECT 1 WHERE x = :x"), {"x": name})\n')
    assert _formatted_sql(good) == [] and _non_literal_sql_calls(good) == []
