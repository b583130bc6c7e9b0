"""Every list is cursor pages: ``?limit=``, a ``next`` link to follow, a 400 for a bad cursor."""

import base64

import pytest

from addressbook.models import Group

pytestmark = pytest.mark.urls("tests.api.probe")
LIST = "/api/v1/probe/groups"


@pytest.fixture
def groups(company, other_company):
    Group.objects.create(company=other_company, name="Theirs")
    return [Group.objects.create(company=company, name=f"G{i}").pk for i in range(5)]


def test_a_program_walks_every_row_once_newest_first(api, groups):
    seen, url = [], f"{LIST}?limit=2"
    while url:
        page = api.get(url).json()
        assert set(page) == {"next", "previous", "results"}
        assert len(page["results"]) <= 2
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(groups, reverse=True)


def test_a_row_added_while_walking_does_not_shift_the_pages(api, company, groups):
    first = api.get(f"{LIST}?limit=2").json()
    Group.objects.create(company=company, name="New")
    second = api.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == sorted(groups, reverse=True)[2:4]


def test_limit_is_capped_and_a_bad_limit_falls_back(api, groups):
    assert len(api.get(f"{LIST}?limit=100000").json()["results"]) == 5
    for limit in ("abc", "-1", "0", "9" * 50):
        assert api.get(f"{LIST}?limit={limit}").status_code == 200


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "é",
        _cursor("o=abc"),
        _cursor("r=x"),
        _cursor("p=abc"),
        _cursor("p=99999999999999999999999"),
        _cursor("p=1.5"),
    ],
)
def test_a_cursor_that_is_not_ours_is_a_400(api, groups, cursor):
    response = api.get(LIST, {"cursor": cursor})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_cursor"
    assert error["fields"] == {"cursor": ["Not a cursor of this list."]}
