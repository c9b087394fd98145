"""orjson writes the API's JSON: the same bytes as Flask's own provider, whatever the answer."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import re
import uuid

import pytest
from flask.json.provider import DefaultJSONProvider

from searchapp.web import create_app
from searchapp.web.json_output import OrjsonProvider

PATHS = [
    "/api/search?q=Gwadar%20port",
    "/api/search?q=铁路&group=article&per_page=20",
    "/api/search?q=green%20energy&sort=newest",
    "/api/search?q=%22China%20Pakistan%22",
    "/api/search?q=zzzzqx",
    "/api/search?q=",
    "/api/suggest?q=gwa",
    "/api/openapi.json",
    "/healthz",
    "/api/search?page=0",  # an error answer
]


def _flask_bytes(app, path: str) -> bytes:
    """The body Flask's default provider would have written for ``path``."""
    app.json = DefaultJSONProvider(app)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    try:
        return app.test_client().get(path).get_data()
    finally:
        app.json = OrjsonProvider(app)
        app.json.sort_keys = False
        app.json.ensure_ascii = False


@pytest.mark.parametrize("path", PATHS)
def test_answers_are_the_bytes_flask_writes(index_dir, path):
    app = create_app({"INDEX_DIR": str(index_dir)})
    assert isinstance(app.json, OrjsonProvider)
    ours = app.test_client().get(path)
    want = _flask_bytes(app, path)
    body = ours.get_data()
    assert ours.mimetype == "application/json"
    assert body.endswith(b"\n")
    if b'"took_ms"' in body:  # timings differ from run to run: compare everything else
        body, want = (_without_took(b) for b in (body, want))
    assert body == want


def _without_took(body: bytes) -> bytes:
    return re.sub(rb'"took_ms":[0-9.eE+-]+', b'"took_ms":0', body)


@dataclasses.dataclass
class _Point:
    x: int
    when: datetime.date


VALUES = [
    {"text": '引号 "quotes" \\ back\nslash\t\u2028 <script>&', "n": 10**15, "f": 0.1 + 0.2},
    {"score": 1.0e-05, "big": 1.5e16, "neg": -0.0, "none": None, "flag": True},
    {"when": datetime.datetime(2024, 5, 20, 8, 30), "day": datetime.date(2024, 5, 20)},
    {"point": _Point(1, datetime.date(2023, 12, 3)), "id": uuid.UUID(int=7)},
    {"price": decimal.Decimal("1.10"), 2024: "an int key", "huge": 2**70},
    [1, "two", [3.5, {"four": []}]],
]


@pytest.mark.parametrize("value", VALUES)
def test_any_value_is_written_as_flask_writes_it(value):
    """Escapes, dates, dataclasses, decimals, int keys and huge integers: the same JSON as
    Flask's (orjson's own, or Flask's where orjson would differ). Floats are the same numbers,
    only written in the shortest form (``0.00001`` for ``1e-05``, ``1.5e16`` for ``1.5e+16``):
    the API's scores and timings are rounded, so its answers are the same bytes (above)."""
    app = create_app({"INDEX_DIR": "/nonexistent"})
    with app.app_context():
        ours = app.json.response(value).get_data()
        flask = DefaultJSONProvider(app)
        flask.sort_keys = False
        flask.ensure_ascii = False
        want = flask.response(value).get_data()
        assert json.loads(ours) == json.loads(want)
        if not _has_float(value) or value is VALUES[0]:
            assert ours == want


def _has_float(value) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def test_debug_pretty_printing_is_flasks():
    app = create_app({"INDEX_DIR": "/nonexistent"})
    app.debug = True
    with app.app_context():
        pretty = app.json.response({"a": [1, 2]}).get_data()
    assert pretty == b'{\n  "a": [\n    1,\n    2\n  ]\n}\n'
