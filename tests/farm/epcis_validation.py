"""Validate documents against GS1's EPCIS 2.0 JSON Schema, offline and with format checking.

The schema (a copy in tests/data/epcis, with SOURCE.md) only $refs its own definitions; a
registry that refuses to retrieve anything proves no network is used. jsonschema checks the
"uri" and "date-time" formats only with optional packages that are not installed, so both are
checked here (RFC 3986 URI syntax, RFC 3339 date-time). jsonschema_rs (installed with
schemathesis) gives a second, independent opinion with its own format checks.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry
from referencing.exceptions import NoSuchResource

EPCIS_DIR = Path(__file__).resolve().parents[1] / "data" / "epcis"
SCHEMA_PATH = EPCIS_DIR / "EPCIS-JSON-Schema.json"
GS1_EXAMPLES = sorted(EPCIS_DIR.glob("Example_*.jsonld"))

_URI_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})"
URI = re.compile(rf"^[A-Za-z][A-Za-z0-9+.\-]*:{_URI_CHAR}*(?:#{_URI_CHAR}*)?$")
DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


def is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(URI.match(value))


def is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not DATE_TIME.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _refuse(uri: str) -> Any:
    raise NoSuchResource(ref=uri)


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def validator() -> jsonschema.Draft7Validator:
    checker = jsonschema.FormatChecker()
    checker.checks("uri")(is_uri)
    checker.checks("date-time")(is_date_time)
    jsonschema.Draft7Validator.check_schema(schema())
    return jsonschema.Draft7Validator(schema(), format_checker=checker,
                                      registry=Registry(retrieve=_refuse))


def problems(document: Any) -> list[str]:
    """Every error both validators find (empty when the document is valid)."""
    found = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
             for error in validator().iter_errors(document)]
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - schemathesis brings it with the dev dependencies
        return found
    second = jsonschema_rs.validator_for(schema(), validate_formats=True)
    found += [f"(jsonschema_rs) {error.instance_path}: {error.message}"
              for error in second.iter_errors(document)]
    return found
