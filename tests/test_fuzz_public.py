"""Every page reachable without logging in, fed random bytes, huge fields and any unicode:
never a 5xx, and a request that is refused changes nothing."""

import json
from urllib.parse import quote_from_bytes, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns.models import Campaign, Channel, Message
from campaigns.personalize import unsubscribe_link
from optout.models import ConsentEvent, InboundMessage, Suppression
from tests.factories import CampaignFactory, ContactFactory
from tests.webhooks import signed_post

NUMBER = "+27711234567"
CODE = "Xk7pQ2ab"
EMAIL_CODE = "Mail2345"

# Bounded: the whole file runs in about a minute. The examples share one test's database,
# which is the point: nothing refused may leave a trace for the next one.
fuzz = hypothesis_settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a browser could send: any code point but a lone surrogate (which no encoder emits).
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80)
huge_text = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["a", "9", "+", "é", "💩", "%", "\x00", "\u202e", " "]),
    st.integers(min_value=300, max_value=50_000),
)
field = st.one_of(any_text, huge_text)
junk_bytes = st.binary(max_size=600)
segment = st.one_of(
    junk_bytes.map(lambda b: quote_from_bytes(b, safe="")),
    any_text.map(lambda t: quote_from_bytes(t.encode(), safe="")),
)


@pytest.fixture
def visitor() -> Client:
    """A stranger's browser; a server error shows as the 500 they would get."""
    return Client(raise_request_exception=False)


@pytest.fixture
def links(company):
    contact = ContactFactory(company=company, phone=NUMBER, email="ada@example.nl", country="ZA")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    sms = Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=NUMBER,
        country="ZA",
        short_code=CODE,
        status=Message.Status.SENT,
    )
    email_campaign = CampaignFactory(company=company, status=Campaign.Status.SENT, channel="email")
    Message.objects.create(
        company=company,
        campaign=email_campaign,
        contact=contact,
        channel=Channel.EMAIL,
        to="ada@example.nl",
        short_code=EMAIL_CODE,
        status=Message.Status.SENT,
    )
    return sms


def state() -> tuple[int, ...]:
    return (
        Suppression.objects.count(),
        ConsentEvent.objects.count(),
        Message.objects.count(),
        InboundMessage.objects.count(),
    )


def unsubscribe_path() -> str:
    return "/s/u/" + unsubscribe_link(EMAIL_CODE).rsplit("/u/", 1)[1]


def refused_unchanged(response, before: tuple[int, ...]) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert state() == before


# --- the landing page and its follow-ups ------------------------------------------------
@fuzz
@given(code=segment, suffix=st.sampled_from(["", "/done", "/undo", "/back"]), post=st.booleans())
def test_any_code_gets_no_server_error(visitor, links, code, suffix, post):
    before = state()
    path = f"/s/{code}{suffix}"
    response = visitor.post(path, {"phone": NUMBER}) if post else visitor.get(path)
    assert response.status_code < 500
    if code != CODE:
        assert state() == before


@fuzz
@given(
    suffix=st.sampled_from(["", "/done", "/back"]),
    query=st.dictionaries(st.sampled_from(["lang", "t", "x", ""]), field, max_size=3),
)
def test_any_query_on_the_pages_changes_nothing(visitor, links, suffix, query):
    before = state()
    response = visitor.get(f"/s/{CODE}{suffix}?{urlencode(query)}")
    assert response.status_code < 500
    assert state() == before


header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=600)


@fuzz
@given(accept_language=header_text, user_agent=header_text, cookie=header_text)
def test_any_headers_on_the_landing_page_get_no_server_error(
    visitor, links, accept_language, user_agent, cookie
):
    headers = {"accept-language": accept_language, "user-agent": user_agent, "cookie": cookie}
    for suffix in ("", "/done"):
        assert visitor.get(f"/s/{CODE}{suffix}", headers=headers).status_code < 500
    assert visitor.get("/s/nope2345", headers=headers).status_code == 404


@fuzz
@given(phone=field, reason=field, reason_text=field, lang=any_text)
def test_any_form_without_the_right_number_opts_nobody_out(
    visitor, links, phone, reason, reason_text, lang
):
    assume("711234567" not in "".join(c for c in phone if c.isdigit()))
    before = state()
    form = {"phone": phone, "reason": reason, "reason_text": reason_text, "lang": lang}
    response = visitor.post(f"/s/{CODE}", form)
    assert response.status_code < 500
    assert state() == before


@fuzz
@given(
    body=st.one_of(junk_bytes, huge_text.map(str.encode)),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json",
            "text/plain; charset=utf-16",
        ]
    ),
)
def test_any_body_on_the_landing_page_opts_nobody_out(visitor, links, body, content_type):
    assume(b"711234567" not in body)
    before = state()
    response = visitor.generic("POST", f"/s/{CODE}", body, content_type=content_type)
    assert response.status_code < 500
    assert state() == before


@fuzz
@given(token=field, lang=any_text)
def test_any_undo_token_brings_nobody_back(visitor, links, token, lang):
    visitor.post(f"/s/{CODE}", {"phone": NUMBER})  # out, so a wrong undo has work to spoil
    before = state()
    response = visitor.post(f"/s/{CODE}/undo", {"t": token, "lang": lang})
    assert response.status_code < 500
    assert state() == before
    assert Suppression.objects.filter(address=NUMBER).exists()


# --- email unsubscribe and one-click ---------------------------------------------------
@fuzz
@given(token=segment, one_click=st.booleans(), post=st.booleans())
def test_any_unsubscribe_token_opts_nobody_out(visitor, links, token, one_click, post):
    before = state()
    path = f"/s/u/{token}"
    if post:
        body = "List-Unsubscribe=One-Click" if one_click else ""
        response = visitor.post(path, body, content_type="application/x-www-form-urlencoded")
    else:
        response = visitor.get(path)
    refused_unchanged(response, before)
    assert Suppression.objects.count() == before[0]


@fuzz
@given(query=st.dictionaries(any_text, field, max_size=3))
def test_unsubscribe_page_with_any_query_only_shows(visitor, links, query):
    before = state()
    response = visitor.get(f"{unsubscribe_path()}?{urlencode(query)}")
    assert response.status_code in (200, 400)  # 400: NUL in the query
    assert state() == before


@fuzz
@given(body=junk_bytes)
def test_one_click_with_any_body_never_fails(visitor, links, body):
    response = visitor.generic(
        "POST", unsubscribe_path(), body, content_type="application/x-www-form-urlencoded"
    )
    # A valid token: the address is out whatever the body says, or the body is refused.
    assert response.status_code < 500
    if response.status_code == 200:
        assert Suppression.objects.filter(address="ada@example.nl").exists()


# --- log-in ----------------------------------------------------------------------------
@fuzz
@given(username=field, password=field, extra=st.dictionaries(any_text, any_text, max_size=2))
def test_any_login_gets_no_server_error(visitor, links, username, password, extra):
    before = state()
    response = visitor.post("/login/", {**extra, "username": username, "password": password})
    assert response.status_code < 500
    assert state() == before


# --- the gateway's webhooks ------------------------------------------------------------
HOOKS = ["/hooks/sms/inbound/", "/hooks/sms/status/"]
HOOK_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text | huge_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
hook_keys = st.sampled_from(
    ["from", "to", "text", "reference", "received_at", "reports", "status", "error"]
)
json_body = st.dictionaries(hook_keys | any_text, json_value, max_size=6).map(
    lambda d: json.dumps(d).encode()
)


@fuzz
@given(path=st.sampled_from(HOOKS), body=junk_bytes, content_type=st.sampled_from(HOOK_TYPES))
def test_an_unsigned_webhook_changes_nothing(visitor, links, path, body, content_type):
    before = state()
    response = visitor.generic("POST", path, body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert state() == before


@fuzz
@given(
    path=st.sampled_from(HOOKS),
    body=st.one_of(junk_bytes, json_body),
    content_type=st.sampled_from(HOOK_TYPES),
)
def test_a_signed_webhook_with_any_body_gets_no_server_error(
    visitor, links, path, body, content_type
):
    before = state()
    response = signed_post(visitor, path, body, content_type=content_type)
    refused_unchanged(response, before)
    # No body the gateway could sign opts the link's number out: only a STOP from it would.
    assert not Suppression.objects.filter(address=NUMBER).exists()


# --- the real gateways' webhooks (CM, Twilio, Vonage) ---------------------------------
GATEWAY_HOOKS = [
    f"/hooks/sms/{g}/{kind}/" for g in ("cm", "twilio", "vonage") for kind in ("inbound", "status")
]
gateway_keys = st.sampled_from(
    # Vonage's, Twilio's and CM's field names, so the parsers get past their first checks.
    ["msisdn", "to", "text", "messageId", "concat", "concat-ref", "concat-total", "concat-part"]
    + ["status", "err-code", "client-ref", "From", "To", "Body", "MessageSid", "MessageStatus"]
    + ["ErrorCode", "from", "message", "messages", "timeUtc"]
)
gateway_fields = st.dictionaries(gateway_keys | any_text, field, max_size=8)
gateway_json = st.dictionaries(gateway_keys | any_text, json_value, max_size=6)


@pytest.fixture
def gateway_accounts(settings):
    from tests.gateways import CM_TOKEN, TWILIO_TOKEN, VONAGE_SECRET

    settings.CM_WEBHOOK_TOKEN = CM_TOKEN
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.VONAGE_SIGNATURE_SECRET = VONAGE_SECRET


def no_parts_left(response) -> None:
    from optout.models import InboundPart

    if response.status_code >= 400:
        assert not InboundPart.objects.exists()


@fuzz
@given(
    path=st.sampled_from(GATEWAY_HOOKS), body=junk_bytes, content_type=st.sampled_from(HOOK_TYPES)
)
def test_an_unsigned_gateway_request_changes_nothing(
    visitor, links, gateway_accounts, path, body, content_type
):
    before = state()
    response = visitor.generic("POST", path, body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert state() == before
    no_parts_left(response)


@fuzz
@given(kind=st.sampled_from(["inbound", "status"]), payload=gateway_json)
def test_cm_with_its_token_and_any_body_gets_no_server_error(
    visitor, links, gateway_accounts, kind, payload
):
    from tests.gateways import cm_post

    before = state()
    response = cm_post(visitor, f"/hooks/sms/cm/{kind}/", payload)
    refused_unchanged(response, before)


@fuzz
@given(kind=st.sampled_from(["inbound", "status"]), fields=gateway_fields)
def test_twilio_signed_with_any_fields_gets_no_server_error(
    visitor, links, gateway_accounts, kind, fields
):
    from tests.gateways import twilio_post

    before = state()
    response = twilio_post(visitor, f"/hooks/sms/twilio/{kind}/", fields)
    refused_unchanged(response, before)


@fuzz
@given(kind=st.sampled_from(["inbound", "status"]), fields=gateway_fields, as_json=st.booleans())
def test_vonage_signed_with_any_fields_gets_no_server_error(
    visitor, links, gateway_accounts, kind, fields, as_json
):
    from tests.gateways import vonage_post, vonage_signed

    before = state()
    response = vonage_post(visitor, f"/hooks/sms/vonage/{kind}/", vonage_signed(fields), as_json)
    refused_unchanged(response, before)
    no_parts_left(response)
    # No fields the gateway could sign opt the link's number out but a STOP from it.
    assert not Suppression.objects.filter(address=NUMBER).exists()
