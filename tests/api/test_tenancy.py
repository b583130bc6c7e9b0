"""Every API URL, with another company's ids, is a 404; no list shows another company's rows.

The walk of ``tests/test_tenancy_walk.py``, with keys rather than sessions: the URL patterns
come from the resolver (the ``api`` namespace), so a new endpoint is walked without being
listed here. The walking key's company holds nothing; the other company holds one row of
every kind, all with the same id, so whatever a URL's id names, it names the other
company's row. That company's own key gets past the 404 on the same URLs and methods,
which proves the ids were the right ones; its requests are rolled back, so they change
nothing the walk compares.

Besides: every list, filtered by what names the other company's rows, answers as for rows
that exist nowhere; so does every write that names them (their contact into our group);
their Idempotency-Keys are new keys here; and without a valid key every URL is a 401.
"""

import itertools
import json
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import get_resolver, resolve, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from addressbook.models import CustomField, Group
from api.keys import create_api_key, revoke_api_key
from api.models import ApiKey, IdempotentRequest, WebhookEndpoint
from campaigns.models import Message
from optout.models import ConsentEvent, Source, Suppression
from optout.selectors import FEED_SETTLE
from tests import test_tenancy_walk as dashboard_walk
from tests.api.conftest import client_for
from tests.factories import CampaignFactory, ContactFactory
from tests.test_tenancy_walk import SECRET, THEIRS, body, rows_of, tenant_models, url_patterns

# The other company's rows, one of every kind, each with the id THEIRS.
their_rows = dashboard_walk.their_rows

# The description of the API is public; the catch-all answers unknown paths.
PUBLIC = {"api:schema", "api:docs"}
OUTSIDE = {*PUBLIC, "api:not-found"}
THEIR_ADDRESS = "+33612345678"  # suppressed in their_rows
THEIR = {"id": THEIRS, "address": THEIR_ADDRESS}
# The walking company's own rows, when it has some (our_rows).
OURS = 424_242
OUR_ADDRESS = "+31612340000"
OUR = {"id": OURS, "address": OUR_ADDRESS}
# What fills each URL parameter: an id, or an address. A route is walked with each.
VALUES = {
    "pk": ["id"],
    "ref": ["id", "address"],
}
# What a request carries: enough that a view which found the row would change it.
HOSTILE = {
    "name": "Hijacked",
    "first_name": "Hijacked",
    "phone": "+31687654321",
    "email": "hijacked@example.com",
    "address": THEIR_ADDRESS,
    "body": "Hijacked",
    "channel": "sms",
    "to": "+31687654321",
    "groups": [THEIRS],
    "contacts": [THEIRS],
    "contact_ids": [THEIRS],
}
# The same, naming rows that exist in no company.
NOWHERE = 987_655
NOWHERE_ADDRESS = "+33612345670"
NOWHERE_HOSTILE = json.loads(
    json.dumps(HOSTILE).replace(str(THEIRS), str(NOWHERE)).replace(THEIR_ADDRESS, NOWHERE_ADDRESS)
)
METHODS = ("get", "post", "put", "patch", "delete")


def api_patterns() -> list[tuple[str, tuple[str, ...]]]:
    """(view name, parameter names) of every URL pattern of the API."""
    walked = {}
    for name, namespaces, params in url_patterns(get_resolver()):
        if "api" in namespaces and name not in OUTSIDE:
            walked.setdefault(name, params)
    return sorted(walked.items())


def urls_of(name: str, params: tuple[str, ...], rows: dict = THEIR) -> list[str]:
    """The route filled with each way of naming ``rows`` (the other company's, or ours)."""
    missing = [p for p in params if p not in VALUES]
    assert not missing, f"{name}: say in VALUES what fills {missing}"
    fillings = itertools.product(*([rows[kind] for kind in VALUES[p]] for p in params))
    return [reverse(name, kwargs=dict(zip(params, values, strict=True))) for values in fillings]


def allowed_methods(url: str) -> list[str]:
    view = resolve(url).func.cls
    return [method for method in METHODS if hasattr(view, method)]


def writes_of(url: str, *, but: set[str] = frozenset()) -> list[str]:
    """The methods of the view at ``url`` that write, in one order every run."""
    return [method for method in allowed_methods(url) if method != "get" and method not in but]


def send(client, method: str, url: str, data: dict = HOSTILE, *, key: str = ""):
    if method == "get":
        return client.get(url)
    headers = {"Idempotency-Key": key} if key else {}
    return getattr(client, method)(
        url, json.dumps(data), content_type="application/json", headers=headers
    )


def rolled_back(client, method: str, url: str, data: dict = HOSTILE, *, key: str = ""):
    """The answer to a request whose writes are undone, so the next one meets the same rows."""
    with transaction.atomic():
        response = send(client, method, url, data, key=key)
        transaction.set_rollback(True)
    return response


def same_answer(one, other) -> bool:
    """The same status, error code and fields at fault: nothing tells the two apart."""

    def gist(response):
        data = response.json() if response.get("Content-Type") == "application/json" else None
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            return response.status_code, None, None
        return response.status_code, error.get("code"), sorted(error.get("fields") or {})

    return gist(one) == gist(other)


def their_filters(url: str) -> list[tuple[dict, dict | None]]:
    """For each query parameter of the list at ``url`` that can name a row: the query that
    names the other company's row, and the same query naming no row (None for a text)."""
    operation = live_schema()["paths"].get(url, {}).get("get", {})
    filters = []
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter["in"] != "query" or name in {"cursor", "limit", "after"}:
            continue
        if parameter["schema"].get("type") == "integer":
            filters.append(({name: THEIRS}, {name: NOWHERE}))
        elif name in {"phone", "address"}:
            filters.append(({name: THEIR_ADDRESS}, {name: NOWHERE_ADDRESS}))
        elif name == "q":
            filters.append(({name: SECRET}, None))
    return filters


def live_schema() -> dict:
    return APIClient().get(reverse("api:schema"), {"format": "json"}).json()


def shows_theirs(response, *, echoing: bool = False) -> bool:
    """Whether an answer holds the other company's rows.

    SECRET is only in their names and texts. Their id and address are in the hostile
    request too, and an answer may name what it was sent ("no group 987654 here"): they
    count only in answers to a request that did not carry them (``echoing=False``).
    """
    text = body(response)
    return SECRET in text or (not echoing and (str(THEIRS) in text or THEIR_ADDRESS in text))


@pytest.fixture
def walker(api):
    """The key of a company that holds nothing."""
    return api


@pytest.fixture
def as_their_owner(outsider_api):
    """The other company's own key; whatever it does is rolled back."""

    def request(method: str, url: str):
        return rolled_back(outsider_api, method, url)

    return request


def test_the_walk_sees_the_apis_urls():
    names = {name for name, _ in api_patterns()}
    assert {"api:suppression-list", "api:suppression-detail", "api:message-detail"} <= names
    assert not names & OUTSIDE


# as_their_owner first: its key is made before their_rows takes the other company's picture.
def test_every_api_url_with_another_companys_id_is_a_404(
    as_their_owner, walker, other_company, their_rows
):
    walked = 0
    for name, params in api_patterns():
        if not params:
            continue
        for url in urls_of(name, params):
            for method in allowed_methods(url):
                response = send(walker, method, url)
                assert response.status_code == 404, f"{method} {url} ({name}): {body(response)}"
                assert response.json()["error"]["code"] == "not_found", f"{method} {url}"
                assert not shows_theirs(response, echoing=True), f"{method} {url}"
                owner_gets = as_their_owner(method, url).status_code
                assert owner_gets != 404, f"{method} {url} ({name}): not the other company's id"
                walked += 1
    assert walked >= 20
    assert rows_of(other_company) == their_rows, "a request changed the other company's data"


def test_api_lists_show_nothing_of_another_company(
    as_their_owner, walker, other_company, their_rows
):
    shown_to_owner, filtered = [], 0
    for name, params in api_patterns():
        if params or "get" not in allowed_methods(reverse(name)):
            continue
        url = reverse(name)
        response = walker.get(url)
        assert response.status_code < 500, f"GET {url} ({name})"
        assert not shows_theirs(response), f"GET {url} ({name}): {body(response)}"
        # Once the other company's events have settled into the feed.
        with time_machine.travel(timezone.now() + 2 * FEED_SETTLE):
            if shows_theirs(as_their_owner("get", url)):
                shown_to_owner.append(name)
        # Each filter of the list, set to what names the other company's rows, answers
        # as it does for what names no row at all.
        for query, nowhere in their_filters(url):
            response = walker.get(url, query)
            assert response.status_code < 500, f"GET {url} {query}"
            assert not shows_theirs(response, echoing=True), f"GET {url} {query}"
            if nowhere is not None:
                assert same_answer(response, walker.get(url, nowhere)), f"GET {url} {query}"
            filtered += 1
    # The same lists do show the other company's rows to its own key.
    assert {
        "api:campaign-list",
        "api:consent-event-list",
        "api:contact-list",
        "api:custom-field-list",
        "api:group-list",
        "api:message-list",
        "api:suppression-list",
        "api:webhook-endpoint-list",
    } <= set(shown_to_owner)
    assert filtered >= 5
    assert rows_of(other_company) == their_rows


def test_api_writes_without_ids_touch_nothing_of_another_company(
    as_their_owner, walker, other_company, their_rows
):
    """A create or send naming the other company's rows is refused as if they did not exist."""
    written = 0
    for name, params in api_patterns():
        if params:
            continue
        url = reverse(name)
        for method in writes_of(url):
            naming_theirs = rolled_back(walker, method, url, HOSTILE)
            naming_nothing = rolled_back(walker, method, url, NOWHERE_HOSTILE)
            assert same_answer(naming_theirs, naming_nothing), f"{method} {url} ({name})"
            response = send(walker, method, url)
            assert response.status_code < 500, f"{method} {url} ({name}): {body(response)}"
            assert not shows_theirs(response, echoing=True), f"{method} {url}: {body(response)}"
            written += 1
    assert written >= 5
    assert rows_of(other_company) == their_rows, "a request changed the other company's data"


@pytest.fixture
def our_rows(company, owner):
    """One row of every kind the API names by id, for the walking company, each with OURS."""
    group = Group.objects.create(pk=OURS, company=company, name="Regulars")
    CustomField.objects.create(pk=OURS, company=company, name="Tier", key="tier")
    contact = ContactFactory(pk=OURS, company=company, phone=OUR_ADDRESS)
    contact.groups.add(group)
    campaign = CampaignFactory(pk=OURS, company=company, created_by=owner)
    campaign.groups.add(group)
    Message.objects.create(
        pk=OURS, company=company, campaign=campaign, contact=contact, to=contact.phone
    )
    event = ConsentEvent.objects.create(
        pk=OURS,
        company=company,
        kind=ConsentEvent.Kind.OPT_OUT,
        address=OUR_ADDRESS,
        source=Source.API,
    )
    Suppression.objects.create(pk=OURS, company=company, address=OUR_ADDRESS, event=event)
    WebhookEndpoint.objects.create(pk=OURS, company=company, url="https://acme.invalid/hook")


def test_writes_to_our_rows_naming_theirs_touch_nothing_of_theirs(
    as_their_owner, walker, company, other_company, their_rows, our_rows
):
    """Adding their contact to our group, their group to our campaign: as if it did not exist."""
    written = 0
    for name, params in api_patterns():
        if not params:
            continue
        for url in urls_of(name, params, OUR):
            for method in writes_of(url):
                naming_theirs = rolled_back(walker, method, url, HOSTILE)
                naming_nothing = rolled_back(walker, method, url, NOWHERE_HOSTILE)
                assert naming_theirs.status_code != 404, f"{method} {url}: add a row to our_rows"
                assert same_answer(naming_theirs, naming_nothing), f"{method} {url} ({name})"
                assert naming_theirs.status_code < 500, f"{method} {url}: {body(naming_theirs)}"
                assert not shows_theirs(naming_theirs, echoing=True), f"{method} {url}"
                written += 1
        # And once for real, to see what stays.
        for url in urls_of(name, params, OUR):
            for method in writes_of(url, but={"delete"}):
                assert send(walker, method, url).status_code < 500, f"{method} {url}"
    assert written >= 10
    assert rows_of(other_company) == their_rows, "a request changed the other company's data"
    assert not links_between(company, other_company)


def links_between(one, other) -> list[str]:
    """Many-to-many links between a row of one company and a row of the other."""
    links = []
    for model in tenant_models():
        for field in model._meta.many_to_many:
            if field.related_model not in tenant_models():
                continue
            for here, there in ((one, other), (other, one)):
                rows = model.objects.filter(company=here, **{f"{field.name}__company": there})
                links += [f"{model._meta.label}.{field.name} of {row.pk}" for row in rows]
    return links


def test_another_companys_idempotency_keys_mean_nothing_here(
    walker, other_company, their_rows, our_rows
):
    """Their Idempotency-Key (one is in their_rows, still in progress) is a new key here."""
    their_key = IdempotentRequest.objects.filter(company=other_company).first().key
    sent = 0
    for path, item in live_schema()["paths"].items():
        operation = item.get("post", {})
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if "Idempotency-Key" not in headers:
            continue
        url = path.format(id=OURS, ref=OURS)
        with_theirs = rolled_back(walker, "post", url, HOSTILE, key=their_key)
        with_new = rolled_back(walker, "post", url, HOSTILE, key="never-used-anywhere")
        assert same_answer(with_theirs, with_new), f"POST {url}: {body(with_theirs)}"
        assert with_theirs.status_code not in (409, 422), f"POST {url}: {body(with_theirs)}"
        assert "Idempotent-Replayed" not in with_theirs, f"POST {url}"
        sent += 1
    assert sent >= 5
    assert rows_of(other_company) == their_rows


@pytest.fixture
def refused(company) -> dict:
    """Clients whose key lets nothing through, by the error code each must be told."""
    revoked = create_api_key(company=company, name="Old CRM")
    revoke_api_key(key=revoked.key)
    expired = create_api_key(company=company, name="Trial")
    ApiKey.objects.filter(pk=expired.key.pk).update(expires_at=timezone.now() - timedelta(days=1))
    return {
        "not_authenticated": APIClient(),
        "invalid_key": client_for(f"oab_{'0' * 12}_{'x' * 27}"),
        "revoked_key": client_for(revoked.secret),
        "expired_key": client_for(expired.secret),
    }


def test_every_api_url_without_a_valid_key_is_a_401(refused, other_company, their_rows):
    for name, params in api_patterns():
        for url in urls_of(name, params):
            for method in allowed_methods(url):
                for code, client in refused.items():
                    response = send(client, method, url)
                    assert response.status_code == 401, f"{method} {url} ({name}), {code}"
                    assert response.json()["error"]["code"] == code, f"{method} {url}"
                    assert response["WWW-Authenticate"].startswith("Bearer"), f"{method} {url}"
    for name in PUBLIC:  # and they hold no company's data
        response = refused["not_authenticated"].get(reverse(name))
        assert response.status_code == 200, name
        assert not shows_theirs(response), name
    assert rows_of(other_company) == their_rows
