"""The JSON API's OpenAPI document: valid, and every path in it answering as it says.

Each operation is called with values for its parameters, and the answer's status must be one the
document lists, with a body that validates against that response's schema; without credentials
every path (the document too) is refused.
"""

from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate

from tests.integration.test_web_search import AUTH, GROUP, TERM, client  # noqa: F401 - the fixture

# A value for each parameter name the API uses, and one it must refuse.
GOOD = {"q": TERM, "group": GROUP, "speaker": "林一帆", "since": "2030-04-01", "until": "2030-05-20", "page": "1",
        "per_page": "5", "date": "2030-04-02"}
BAD = {"q": "x" * 201, "group": "\x00", "speaker": "", "since": "2030-02-30", "until": "9999-01-01", "page": "-1",
       "per_page": "0", "date": "9999-12-31"}


async def spec_of(client) -> dict:
    response = await client.get("/api/openapi.json", headers=AUTH)
    assert response.status == 200
    return await response.json()


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def request_for(path: str, operation: dict, values: dict, only: str | None = None) -> tuple[str, dict]:
    query = {}
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        value = values[name] if only in (None, name) else GOOD[name]
        if parameter["in"] == "path":
            path = path.replace("{" + name + "}", value)
        elif parameter["required"] or only == name:
            query[name] = value
    return path, query


def check_body(spec: dict, operation: dict, status: int, body) -> None:
    described = operation["responses"]
    assert str(status) in described, (status, body)
    schema = described[str(status)]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": spec["components"]},
                        cls=jsonschema.Draft202012Validator)


async def test_document_is_valid_openapi(client):
    spec = await spec_of(client)
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert sorted(spec["paths"]) == ["/api/ask", "/api/days/{group}/{date}", "/api/groups", "/api/search"]
    search = spec["paths"]["/api/search"]["get"]
    assert [p["name"] for p in search["parameters"]] == ["q", "group", "speaker", "since", "until", "page", "per_page"]
    hit = spec["components"]["schemas"]["SearchHit"]["properties"]
    assert list(hit)[:6] == ["group", "date", "time", "speaker", "text", "score"]  # `archive-bot search --json`


async def test_every_path_answers_as_described(client):
    spec = await spec_of(client)
    called = 0
    for path, method, operation in operations(spec):
        url, query = request_for(path, operation, GOOD)
        response = await client.request(method, url, params=query, headers=AUTH)
        assert response.status == 200, (url, await response.text())
        check_body(spec, operation, 200, await response.json())
        called += 1
    assert called == 4


async def test_every_refused_parameter_answers_as_described(client):
    spec = await spec_of(client)
    refused = 0
    for path, method, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            url, query = request_for(path, operation, BAD, only=parameter["name"])
            response = await client.request(method, url, params=query, headers=AUTH)
            body = await response.json()
            assert response.status == 400, (url, query, body)
            check_body(spec, operation, 400, body)
            assert parameter["name"] in body["error"] or "path" in body["error"]
            refused += 1
    assert refused == 7 + 2 + 2  # search, ask, days


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic d3Jvbmc6Z3Vlc3M="}])
async def test_api_refuses_without_credentials(client, headers):
    spec = await spec_of(client)
    for path, method, operation in operations(spec):
        url, query = request_for(path, operation, GOOD)
        response = await client.request(method, url, params=query, headers=headers)
        refused = (401,) if not headers else (401, 429)  # wrong passwords are throttled after five
        assert response.status in refused
        if response.status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Basic")
        check_body(spec, operation, response.status, await response.json())
    for hostile in ({"q": "x" * 5000}, {"page": "-1"}):  # refused before the parameters are read
        assert (await client.get("/api/search", params=hostile, headers=headers)).status in refused
    assert (await client.get("/api/openapi.json", headers=headers)).status in refused


async def test_every_api_route_is_behind_the_access_rule(client):
    from bot.web.api import create_api

    paths = [r.resource.canonical.replace("{group}", GROUP).replace("{date}", "2018-01-01")
             for r in create_api().router.routes() if r.method == "GET"]
    assert len(paths) == 5
    for path in paths:
        response = await client.get("/api" + path)
        assert response.status == 401, path


async def test_api_shares_the_sign_in_throttle(aiohttp_client, tmp_path):
    from bot.app import create_app
    from tests.integration.test_web_search import web_config

    client = await aiohttp_client(create_app(web_config(tmp_path, login_attempts=2), load_answers=False))
    wrong = {"Authorization": "Basic d3Jvbmc6Z3Vlc3M="}
    assert [(await client.get("/api/groups", headers=wrong)).status for _ in range(2)] == [401, 401]
    throttled = await client.get("/api/groups", headers=AUTH)  # even the right password waits now
    assert throttled.status == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "Too many" in (await throttled.json())["error"]
    assert (await client.get("/archive", headers=AUTH)).status == 429  # one throttle for pages and API
