"""Query parameters read the same way on every list: a wrong one is a 400 that names it."""

import pytest


@pytest.mark.parametrize(
    "path, name",
    [("/api/v1/contacts", "updated_after"), ("/api/v1/suppressions", "since")],
)
def test_an_offset_the_database_cannot_store_is_read_in_utc(api, path, name):
    # Python reads offsets up to ±23:59; PostgreSQL stores ±15:59 at most.
    answer = api.get(path, {name: "1943-07-27T19:49:18+22:22"})
    assert answer.status_code == 200, answer.json()


def test_every_bad_parameter_is_named_at_once(api):
    answer = api.get(
        "/api/v1/messages", {"status": "lost", "campaign": "seven", "channel": ["sms", "email"]}
    )
    assert answer.status_code == 400
    assert set(answer.json()["error"]["fields"]) == {"status", "campaign", "channel"}
