"""Every operation of the live OpenAPI description, fuzzed: no 5xx, every answer documented.

The operations come from the live schema (``api:schema``) itself, so a new endpoint is
fuzzed as soon as it is described, without being listed here. Each operation gets examples
from the schema, schemathesis's coverage cases (boundaries, wrong types, missing fields)
and a bounded number of random requests, positive and negative, sent with a valid key of a
company that holds a few rows of every kind. Path ids are often swapped for that
company's real ids, so detail routes answer about real rows too, not only with 404s.

Chains of calls follow the links schemathesis infers between operations (create, read,
change, delete, read again). The schema itself must be generated without a guess, valid
OpenAPI, hold every route of the API, and say what every operation answers: its 401 and
429 are checked against it too.

Generation is derandomized and takes nothing from a database of past runs: a failure shows
the request as curl and comes back on every run until it is fixed.
"""

import json
import re

import hypothesis
import pytest
import schemathesis
import time_machine
from django.apps import apps
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from addressbook.models import CustomField, Group
from api.keys import create_api_key
from api.models import ApiKey, WebhookEndpoint
from campaigns.models import Message
from optout.models import ConsentEvent, Source, Suppression
from optout.services import record_optout
from tests.api.test_tenancy import allowed_methods, api_patterns
from tests.factories import CampaignFactory, ContactFactory

# Random requests per operation, on top of the schema's examples and the coverage cases:
# enough to find the classic 500s (huge ids, NUL bytes, wrong types) in about two minutes
# for the whole API on this kind of machine.
MAX_EXAMPLES = 25
# Chains of calls along the schema's links, and calls per chain.
WORKFLOWS, STEPS = 40, 8
OURS = 424_242  # the id of one row of every kind of the fuzzing company
PHONE = "+31612340000"  # a contact's number, also suppressed
EMAIL = "fuzz@example.com"
FIELD_KEY = "tier"
# Besides an id, what names a real row in a parameter of that name.
REAL_VALUES = {
    "ref": [str(OURS), PHONE],
    "phone": [PHONE],
    "address": [PHONE],
    "email": [EMAIL],
    "key": [FIELD_KEY],
}
# Addresses a body may carry that the API takes: random text seldom parses as a number.
BODY_VALUES = {
    "phone": ["+31687650000"],
    "to": ["+31687650000"],
    "address": ["+31687650000", "new@example.com"],
    "email": ["new@example.com"],
    "country": ["NL"],
}

CONFIG = SchemathesisConfig.from_dict(
    {"generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"}}
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi(reverse("api:schema"), WSGIHandler(), config=CONFIG)


def _sometimes_real(parameters):
    """Each id (or address) as generated, or one that names a row of the fuzzed company."""
    if not parameters:
        return st.just(parameters)
    choices = {}
    for name, value in parameters.items():
        real = list(REAL_VALUES.get(name, ()))
        if _is_int(value):
            real.append(OURS)
        elif isinstance(value, str) and value.isascii() and value.isdigit():
            real.append(str(OURS))
        choices[name] = st.sampled_from([value, *real])
    return st.fixed_dictionaries(choices)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _sometimes_real(path_parameters)


@schema.hook
def flatmap_query(context, query):
    return _sometimes_real(query)


@schema.hook
def flatmap_body(context, body):
    """Ids a body refers to (the groups of a campaign, the contacts to add to a group) as
    generated, or the fuzzed company's, so that creating and changing succeed too."""
    if not isinstance(body, dict):
        return st.just(body)
    choices = {}
    for name, value in body.items():
        ints = isinstance(value, list) and value and all(_is_int(item) for item in value)
        real = [[OURS]] if ints else [OURS] if _is_int(value) and name.endswith("id") else []
        real += BODY_VALUES.get(name, [])
        choices[name] = st.sampled_from([value, *real])
    return st.fixed_dictionaries(choices)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@pytest.fixture
def fuzzed_company(company, owner, settings):
    """A company with a few rows of every kind the API serves, one of each with the id OURS."""
    # Thousands of requests with one key, and still the rate-limit headers on every answer.
    settings.API_REQUESTS_PER_MINUTE = 1_000_000
    field = CustomField.objects.create(pk=OURS, company=company, name="Tier", key=FIELD_KEY)
    group = Group.objects.create(pk=OURS, company=company, name="Regulars")
    contact = ContactFactory(
        pk=OURS, company=company, phone=PHONE, email=EMAIL, custom={field.key: "gold"}
    )
    others = ContactFactory.create_batch(3, company=company)
    group.contacts.add(contact, *others[:2])
    Group.objects.create(company=company, name="Newsletter").contacts.add(others[2])
    event = ConsentEvent.objects.create(
        pk=OURS,
        company=company,
        kind=ConsentEvent.Kind.OPT_OUT,
        address=PHONE,
        source=Source.LANDING_PAGE,
        reason="too_many",
    )
    Suppression.objects.create(pk=OURS, company=company, address=PHONE, event=event)
    record_optout(company=company, address=others[0].phone, source=Source.SMS_KEYWORD)
    campaign = CampaignFactory(pk=OURS, company=company, name="Spring sale", created_by=owner)
    campaign.groups.add(group)
    CampaignFactory(company=company, name="Draft", body="Hi {{ first_name }}")
    Message.objects.create(
        pk=OURS,
        company=company,
        campaign=campaign,
        contact=others[1],
        to=others[1].phone,
        body="Spring sale: 20% off",
        status=Message.Status.SENT,
    )
    WebhookEndpoint.objects.create(pk=OURS, company=company, url="https://acme.invalid/hook")
    Message.objects.create(
        company=company,
        kind=Message.Kind.TRANSACTIONAL,
        to=PHONE,
        body="Your code is 123456",
        status=Message.Status.DELIVERED,
    )
    return company


@pytest.fixture
def one_transaction():
    """Keep every request inside the test's transaction, as Django's test client does.

    The WSGI handler closes the database connection at the end of each request; inside
    a test that would abort the transaction that holds the fixtures.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# The rows are made once per operation: its examples share them, in the test's transaction.
@schema.parametrize()
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented(case, fuzzed_company, issued_key, one_transaction):
    headers = {"Authorization": f"Bearer {issued_key.secret}"}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    # A key is shown once, when it is made: no answer repeats it.
    assert issued_key.secret not in response.text


def test_workflows_across_operations_answer_as_documented(
    fuzzed_company, issued_key, one_transaction
):
    """Chains that follow the links between operations (create a contact, read it, change
    it, delete it, read it again): besides the checks above, what was created can be read
    and what was deleted is gone."""
    headers = {"Authorization": f"Bearer {issued_key.secret}"}

    class AsTheCompany(schema.as_state_machine()):
        # Each chain starts from the same rows: what one chain wrote, the next must not
        # meet, or replaying a chain (to shrink a failure) would not do what it did.
        def setup(self):
            self.rows = transaction.atomic()
            self.rows.__enter__()
            _rewind_sequences()

        def teardown(self):
            transaction.set_rollback(True)
            self.rows.__exit__(None, None, None)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                checks=[*CHECKS, ensure_resource_availability, use_after_free],
                headers=headers,
                transport_kwargs=kwargs,
            )

    AsTheCompany.run(
        settings=hypothesis.settings(
            max_examples=WORKFLOWS,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


def _rewind_sequences() -> None:
    """Ids start again after the highest one kept, as they would on a fresh database.

    A rolled-back chain leaves PostgreSQL's sequences where it took them, so the next
    chain would get other ids, and links followed with other ids lead elsewhere.
    """
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def test_every_operation_refuses_a_missing_key_and_a_spent_limit_as_documented(
    fuzzed_company, one_transaction
):
    """The 401 and the 429 of every operation conform too, headers included."""
    issued = create_api_key(company=fuzzed_company, name="Once a minute")
    ApiKey.objects.filter(pk=issued.key.pk).update(rate_limit=1)
    limited = {"Authorization": f"Bearer {issued.secret}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    # In one minute of the limit's: the count must not start again halfway.
    with time_machine.travel(timezone.now(), tick=False):
        operations[0].Case(path_parameters=_ids(operations[0])).call(headers=limited)
        for operation in operations:
            case = operation.Case(path_parameters=_ids(operation))
            assert case.call_and_validate(checks=CHECKS).status_code == 401, operation.label
            spent = case.call_and_validate(headers=limited, checks=CHECKS)
            assert spent.status_code == 429, operation.label
            headers = {name.lower(): values for name, values in spent.headers.items()}
            assert 0 < int(headers["retry-after"][0]) <= 60, operation.label


def test_every_operation_refuses_hostile_input_as_documented(
    fuzzed_company, issued_key, one_transaction
):
    """The classics, sent to every operation on purpose rather than by chance: an id too
    large for any column; NUL, a 40-digit number and moments no database holds in each
    query parameter; malformed JSON; NUL, a megabyte of text and a 31-digit number in each
    field of the body. Every answer is as documented and none is a 5xx; all that fail are
    listed at once."""
    key = f"Bearer {issued_key.secret}"
    failures = []

    def expect(operation, wanted, **request):
        try:
            code = _answer(operation, key, **request)
        except (AssertionError, FailureGroup) as failure:
            failures.append(f"{operation.label} {request}: {failure}"[:2000])
            return
        if code not in wanted:
            failures.append(f"{operation.label} {str(request)[:200]}: {code}")

    anything, refused = range(200, 500), range(400, 500)
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path_parameters:
            expect(operation, {404}, path=dict.fromkeys(_ids(operation), 10**30))
        for parameter in operation.query:
            for value in ("a\x00b", "9" * 40, *EXTREME_MOMENTS):
                expect(operation, anything, query={parameter.name: value})
        fields = _body_fields(operation)
        if fields is not None:
            expect(operation, {400}, data=b'{"unclosed": ')
        for field in fields or ():
            for value in ("a\x00b", "x" * 1_000_000):
                expect(operation, refused, data=json.dumps({field: value}).encode())
            for value in (10**30, [10**30]):  # an id no column holds, alone or in a list
                expect(operation, anything, data=json.dumps({field: value}).encode())
    assert not failures, "\n\n".join(failures)


# Valid ISO 8601 that PostgreSQL cannot store: offsets beyond ±15:59, the ends of time.
EXTREME_MOMENTS = (
    "2026-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-12:00",
)


def _answer(operation, key: str, *, path=None, query=None, data: bytes | None = None) -> int:
    """The status of one request, once schemathesis found it as documented."""
    case = operation.Case(path_parameters=path or _ids(operation), query=query)
    headers = {"Authorization": key}
    sent = {}
    if data is not None:
        headers["Content-Type"] = "application/json"
        sent["data"] = data
    response = case.call_and_validate(headers=headers, checks=CHECKS, **sent)
    return response.status_code


def _body_fields(operation) -> list[str] | None:
    """The top-level fields of the operation's JSON body; None when it takes no body."""
    raw = schema.raw_schema["paths"][operation.path][operation.method.lower()]
    content = raw.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    body = content["schema"]
    if "$ref" in body:
        body = schema.raw_schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return list(body.get("properties", {}))


def _ids(operation) -> dict:
    return {parameter.name: OURS for parameter in operation.path_parameters}


def test_the_schema_is_generated_without_a_guess_and_is_valid_openapi(tmp_path):
    """drf-spectacular warns where it had to guess a type or invent a name; none is left."""
    GENERATOR_STATS.reset()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )


def test_the_schema_describes_every_route_of_the_api():
    """What the schema leaves out, nothing above would fuzz: every route and method is in it."""
    described = [
        (method, re.compile(re.sub(r"\{\w+\}", "[^/]+", path)))
        for path, item in schema.raw_schema["paths"].items()
        for method in item
    ]
    for name, params in api_patterns():
        url = reverse(name, kwargs=dict.fromkeys(params, OURS))
        for method in allowed_methods(url):
            assert any(method == verb and pattern.fullmatch(url) for verb, pattern in described), (
                f"{method.upper()} {url} ({name}) is not in the schema"
            )


def test_every_operation_is_described_for_an_integrator():
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, item in schema.raw_schema["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 20
    for label, operation in operations:
        responses = operation["responses"]
        assert operation.get("summary"), f"{label}: no summary"
        assert operation.get("tags"), f"{label}: no tag"
        assert {"401", "429"} <= set(responses), label
        for code, response in responses.items():
            if code != "204":
                assert "application/json" in response.get("content", {}), f"{label} {code}"
            if code.startswith("4"):
                body = response["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, f"{label} {code}"
        if "201" in responses:
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert "Idempotency-Key" in headers, f"{label} creates without an Idempotency-Key"
