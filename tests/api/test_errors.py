"""Every error of the API is JSON of one shape, ``{"error": {"code", "message", "fields"}}``,
with the right 4xx, whatever was wrong: the path, the method, the body or its size."""

import json

import pytest

pytestmark = pytest.mark.urls("tests.api.probe")
PROBE = "/api/v1/probe"


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/v1/",
        "/api/v1/contactz",
        "/api/v2/contacts",
        "/api/v1/probe/x/y",
        "/api/v1/groups/a%0Ab/members",
        "/api/v1/x%0D%0A",
        "/api/v1/%C2%85",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_unknown_path_is_a_json_404(api, anonymous_api, path, method):
    for client in (api, anonymous_api):
        error = _error(getattr(client, method)(path), 404, "not_found")
        assert "/api/v1/docs" in error["message"]


def test_a_method_the_endpoint_has_not_is_a_405(api):
    error = _error(api.put(PROBE, {}, format="json"), 405, "method_not_allowed")
    assert "PUT" in error["message"]


def test_options_is_a_405_the_schema_describes_the_endpoints(api):
    error = _error(api.options(PROBE), 405, "method_not_allowed")
    assert "OPTIONS" in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"name": "VIP",}',
        b"{'name': 'VIP'}",
        b'{"name": NaN}',
        b"\xff\xfe not utf-8",
        b'{"name": "' + b"9" * 5000 + b'"' + b"}" * 0,
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_malformed_json_is_a_400(api, body):
    response = api.generic("POST", PROBE, body, content_type="application/json")
    error = _error(response, 400, "parse_error")
    assert "JSON parse error" in error["message"]
    assert api.get(PROBE).json()["groups"] == 0


@pytest.mark.parametrize("text", ["VIP\x00", "\x00", "VIP\ud800", "\udfff"])
def test_a_json_string_no_column_can_store_is_a_400(api, text):
    body = json.dumps({"name": text}).encode()  # "\u0000", "\ud800": valid JSON
    response = api.generic("POST", PROBE, body, content_type="application/json")
    error = _error(response, 400, "parse_error")
    assert "cannot be stored" in error["message"]
    assert api.get(PROBE).json()["groups"] == 0


def test_nul_in_a_key_or_a_nested_value_is_a_400_too(api):
    for data in ({"name": "VIP", "tags": ["a\x00"]}, {"name": "VIP", "x\x00": 1}):
        response = api.generic(
            "POST", PROBE, json.dumps(data).encode(), content_type="application/json"
        )
        _error(response, 400, "parse_error")


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        (f"{PROBE}?q=%00", {}),
        (PROBE, {"HTTP_X_REQUEST_ID": "a\x00b"}),
        ("/api/v1/nope%00", {}),
    ],
)
def test_nul_in_the_query_a_header_or_the_path_is_a_json_400(api, path, extra):
    error = _error(api.get(path, **extra), 400, "invalid")
    assert "cannot be stored" in error["message"]


def test_an_oversized_body_is_a_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "VIP", "tags": ["a"] * 5_000}).encode()
    error = _error(
        api.generic("POST", PROBE, body, content_type="application/json"), 413, "too_large"
    )
    assert "10,000 bytes" in error["message"]
    assert api.get(PROBE).json()["groups"] == 0


def test_a_body_that_is_not_json_is_a_415(api):
    response = api.post(PROBE, "name=VIP", content_type="application/x-www-form-urlencoded")
    error = _error(response, 415, "unsupported_media_type")
    assert "application/x-www-form-urlencoded" in error["message"]


def test_invalid_fields_are_named_in_fields(api):
    response = api.post(PROBE, {"name": "x" * 101, "fail": "maybe"}, format="json")
    error = _error(response, 400, "invalid")
    assert set(error["fields"]) == {"name", "fail"}
    assert all(isinstance(m, str) for messages in error["fields"].values() for m in messages)


def test_nested_invalid_fields_are_flat_paths(api):
    data = {"name": "VIP", "tags": ["ok", "too-long"], "rows": [{"phone": "1"}, {}]}
    error = _error(api.post(PROBE, data, format="json"), 400, "invalid")
    assert error["fields"] == {
        "tags[1]": ["Ensure this field has no more than 5 characters."],
        "rows[1].phone": ["This field is required."],
    }


def test_wrong_types_are_a_400(api):
    for data in ([1, 2], "VIP", 42, None, {"name": {"a": 1}}, {"name": "VIP", "rows": "x"}):
        response = api.post(PROBE, data, format="json")
        assert response.status_code == 400, data
        assert response.json()["error"]["code"] in {"invalid", "parse_error"}


def test_a_missing_object_is_a_404_in_the_shape(api):
    _error(api.post(PROBE, {"name": "VIP", "fail": "missing"}, format="json"), 404, "not_found")


def test_a_conflict_is_a_409_in_the_shape(api):
    api.post(PROBE, {"name": "VIP"}, format="json")
    error = _error(api.post(PROBE, {"name": "VIP"}, format="json"), 409, "conflict")
    assert "already a group" in error["message"]


@pytest.mark.urls("tests.api.probe")
def test_a_server_error_is_still_the_apis_error_shape_and_is_logged(api, caplog):
    with caplog.at_level("ERROR", logger="django.request"):
        answer = api.post("/api/v1/probe", {"name": "x", "fail": "server"}, format="json")

    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["error"]["code"] == "server_error"
    assert "the gateway fell over" not in answer.content.decode()
    assert any("the gateway fell over" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
