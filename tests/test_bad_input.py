"""Input nothing can store (NUL, lone surrogates, unreadable forms) gets a 400 that says
so, never a 500, and changes nothing."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from campaigns.models import Campaign, Message
from optout.models import ConsentEvent, InboundMessage, Suppression
from tests.factories import CampaignFactory, ContactFactory
from tests.webhooks import signed_post

NUMBER = "+27711234567"
CLEAR = "cannot be stored"


@pytest.fixture
def raw_client():
    """A client that shows a server error as the 500 a visitor would get."""
    return Client(raise_request_exception=False)


@pytest.fixture
def message(company):
    contact = ContactFactory(company=company, phone=NUMBER, country="ZA")
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT)
    return Message.objects.create(
        company=company,
        campaign=campaign,
        contact=contact,
        to=NUMBER,
        country="ZA",
        short_code="Xk7pQ2ab",
        status=Message.Status.SENT,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/s/%00",
        "/s/%00/done",
        "/s/%00/back",
        "/s/u/%00",
        "/s/Xk7pQ2ab?lang=%00",
        "/s/Xk7pQ2ab/done?t=%00",
        "/login/?next=%00",
    ],
)
def test_nul_in_a_public_path_or_query_gets_400(raw_client, message, path):
    response = raw_client.get(path)
    assert response.status_code == 400
    assert CLEAR in response.content.decode()


@pytest.mark.parametrize("path", ["/s/%00", "/s/%00/undo", "/s/u/%00"])
def test_nul_in_a_public_post_path_gets_400(raw_client, message, path):
    assert raw_client.post(path, {"phone": NUMBER}).status_code == 400
    assert not Suppression.objects.exists()


def test_nul_in_a_form_field_gets_400_and_opts_nobody_out(raw_client, message):
    response = raw_client.post("/s/Xk7pQ2ab", {"phone": NUMBER, "reason_text": "I moved\x00"})
    assert response.status_code == 400
    assert CLEAR in response.content.decode()
    assert not Suppression.objects.exists()
    assert not ConsentEvent.objects.exists()
    # Without the character, the same form goes through.
    retried = raw_client.post("/s/Xk7pQ2ab", {"phone": NUMBER, "reason_text": "I moved"})
    assert retried.status_code == 302


def _multipart(charset: str, fields: dict[str, bytes]) -> tuple[bytes, str]:
    parts = [
        b'--B\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k.encode(), v)
        for k, v in fields.items()
    ]
    return b"".join(parts) + b"--B--\r\n", f"multipart/form-data; boundary=B; charset={charset}"


def test_a_lone_surrogate_smuggled_in_a_form_gets_400(raw_client, message):
    # A charset of Python's own turns "\\ud800" in a field into a lone surrogate, which no
    # UTF-8 database column can hold.
    body, content_type = _multipart(
        "unicode_escape", {"phone": b"+27711234567", "reason_text": b"\\ud800"}
    )
    response = raw_client.generic("POST", "/s/Xk7pQ2ab", body, content_type=content_type)
    assert response.status_code == 400
    assert CLEAR in response.content.decode()
    assert not Suppression.objects.exists()


def test_a_form_in_a_charset_that_is_no_text_encoding_gets_400(raw_client, message):
    body, content_type = _multipart("rot13", {"phone": b"+27711234567"})
    response = raw_client.generic("POST", "/s/Xk7pQ2ab", body, content_type=content_type)
    assert response.status_code == 400
    assert "cannot be read" in response.content.decode()
    assert not Suppression.objects.exists()


def test_a_form_that_is_not_utf8_gets_400(raw_client, message):
    response = raw_client.generic(
        "POST",
        "/s/Xk7pQ2ab",
        b"phone=%2B27711234567",
        content_type="application/x-www-form-urlencoded; charset=latin-1",
    )
    assert response.status_code == 400
    assert "must be UTF-8 encoded" in response.content.decode()
    assert not Suppression.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/contacts/?q=%00",
        "/contacts/?country=%00",
        "/contacts/?group=%00",
        "/contacts/?field=city&value=%00",
        "/contacts/export.csv?q=%00",
        "/opt-outs/?page=%00",
        "/replies/?page=%00",
        "/campaigns/?page=%00",
    ],
)
def test_nul_in_a_dashboard_filter_gets_400(marketer_client, path):
    marketer_client.raise_request_exception = False
    response = marketer_client.get(path)
    assert response.status_code == 400
    assert CLEAR in response.content.decode()


def test_nul_in_a_dashboard_form_gets_400_and_saves_nothing(marketer_client, company):
    marketer_client.raise_request_exception = False
    response = marketer_client.post(
        "/contacts/new/", {"first_name": "Ada\x00", "phone": "+31612345678"}
    )
    assert response.status_code == 400
    assert not company.contacts.exists()


def test_the_gateways_webhooks_are_left_to_strip_nul_themselves(client, db):
    # A handset's reply with a NUL in it is still a reply: the webhook keeps it, cleaned.
    body = urlencode({"from": "+27711234567", "to": "36111", "text": "Hello\x00 there"}).encode()
    response = signed_post(
        client, "/hooks/sms/inbound/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert InboundMessage.objects.get().text == "Hello there"


@pytest.mark.parametrize("group", ["²", "①", "99999999999999999999999"])
def test_a_group_filter_that_is_no_id_gets_no_server_error(marketer_client, company, group):
    marketer_client.raise_request_exception = False
    ContactFactory(company=company, first_name="Ada")
    page = marketer_client.get("/contacts/", {"group": group})
    assert page.status_code == 200
    export = marketer_client.get("/contacts/export.csv", {"group": group})
    assert export.status_code == 200
    assert b"".join(export.streaming_content).decode("utf-8-sig").startswith("First name")


def test_bulk_actions_ignore_ids_that_are_no_ids(marketer_client, company):
    from addressbook.models import Group

    marketer_client.raise_request_exception = False
    group = Group.objects.create(company=company, name="Fair")
    ada = ContactFactory(company=company)
    response = marketer_client.post(
        "/contacts/bulk/", {"target_group": group.pk, "ids": [str(ada.pk), "²", "9" * 30]}
    )
    assert response.status_code == 302
    assert list(group.contacts.all()) == [ada]
    assert marketer_client.post("/contacts/bulk/", {"target_group": "²"}).status_code == 404


def test_a_query_with_a_charset_that_is_no_text_encoding_gets_400_from_the_server(db):
    # Django decodes the query string while it builds the request, before any middleware:
    # this is the WSGI application gunicorn serves, not the test client's handler.
    from wsgiref.util import setup_testing_defaults

    from config.wsgi import application

    environ = {}
    setup_testing_defaults(environ)
    environ.update(
        PATH_INFO="/s/Xk7pQ2ab",
        QUERY_STRING="lang=en",
        CONTENT_TYPE="text/plain; charset=rot13",
        HTTP_HOST="testserver",
    )
    statuses = []
    body = b"".join(
        application(environ, lambda status, headers, exc_info=None: statuses.append(status))
    )
    assert statuses == ["400 Bad Request"]
    assert b"cannot be read" in body
