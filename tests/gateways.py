"""Posting to the real gateways' webhooks as CM, Twilio and Vonage do.

Twilio's signature comes from the ``twilio`` package's own RequestValidator; Vonage's
``sig`` is written out here from its documented algorithm rather than borrowed from
``optout.gateways``, so a change there breaks these tests as it would break Vonage.
"""

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

from django.http import HttpResponse
from django.test import Client
from twilio.request_validator import RequestValidator

CM_TOKEN = "cm-webhook-token-0123456789abcdefghij"
TWILIO_TOKEN = "twilio-auth-token-0123456789abcdef"
VONAGE_SECRET = "vonage-signature-secret-0123456789"

# From CM's "Incoming Messages" page, with our numbers.
CM_INBOUND = {
    "reference": "",
    "messageContext": "",
    "from": {"number": "+33612345678", "name": ""},
    "to": {"number": "36111"},
    "message": {"text": "STOP", "media": {"mediaUri": "", "contentType": "", "title": ""}},
    "groupings": ["", "", ""],
    "timeUtc": "2026-12-08T09:15:02",
    "channel": "SMS",
}


def cm_status(reference: str, code: str, error: str = "") -> dict:
    """A status report as CM's "Incoming Status Reports" page shows it (JSON)."""
    return {
        "messages": {
            "msg": {
                "received": "2026-12-08T09:20:00",
                "to": "0031612345678",
                "reference": reference,
                "status": {"code": code, "errorCode": "", "errorDescription": error},
                "operator": "20416",
            }
        }
    }


def cm_post(
    client: Client, path: str, payload: dict | bytes, token: str | None = CM_TOKEN
) -> HttpResponse:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    url = path if token is None else f"{path}?token={token}"
    return client.post(url, body, content_type="application/json")


def twilio_post(
    client: Client,
    path: str,
    fields: dict,
    token: str = TWILIO_TOKEN,
    signed_url: str | None = None,
    **extra,
) -> HttpResponse:
    """POST form fields signed as Twilio signs them, for the URL it called."""
    url = signed_url or f"http://testserver{path}"
    signature = RequestValidator(token).compute_signature(url, fields)
    return client.post(
        path,
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
        **extra,
    )


def twilio_inbound(body: str = "STOP", sid: str = "SM1f0e8ae6ade43cb3c0ce4525424e404f") -> dict:
    """An incoming message as Twilio's webhook request shows it."""
    return {
        "ToCountry": "FR",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": "36111",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": "ACae6e420f425248d6a26948c17a9e2acf",
        "From": "+33612345678",
        "ApiVersion": "2010-04-01",
    }


def twilio_status(sid: str, status: str, error_code: str = "") -> dict:
    fields = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": "+31612345678",
        "MessageSid": sid,
        "AccountSid": "ACae6e420f425248d6a26948c17a9e2acf",
        "From": "+15017122661",
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        fields["ErrorCode"] = error_code
    return fields


def vonage_sig(params: dict, secret: str = VONAGE_SECRET, method: str = "sha256") -> str:
    """Sorted ``&name=value`` pairs (``&`` and ``=`` in values as ``_``); the MD5 of them
    and the secret (md5hash), or their HMAC keyed with the secret."""
    signed = "".join(
        "&" + name + "=" + str(params[name]).replace("&", "_").replace("=", "_")
        for name in sorted(params)
    )
    data = signed.encode(errors="surrogatepass")  # what a handset may send, as it came
    if method == "md5hash":
        return hashlib.md5(data + secret.encode()).hexdigest()
    return hmac.new(secret.encode(), data, getattr(hashlib, method)).hexdigest()


def vonage_signed(params: dict, secret: str = VONAGE_SECRET, method: str = "sha256") -> dict:
    params = {"timestamp": str(int(time.time())), "nonce": "7d1f0c52-2d", **params}
    return {**params, "sig": vonage_sig(params, secret, method)}


def vonage_post(client: Client, path: str, params: dict, as_json: bool = False) -> HttpResponse:
    if as_json:
        return client.post(path, json.dumps(params), content_type="application/json")
    return client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded")


def vonage_inbound(text: str = "STOP", message_id: str = "0A0000000123ABCD1", **more) -> dict:
    """An inbound message as Vonage's "Inbound SMS" page shows it."""
    return {
        "msisdn": "33612345678",
        "to": "36111",
        "messageId": message_id,
        "text": text,
        "type": "text",
        "keyword": text.split()[0].upper() if text.split() else "",
        "message-timestamp": "2026-12-08 09:15:02",
        **more,
    }


def vonage_receipt(message_id: str, status: str, err_code: str = "0", **more) -> dict:
    """A delivery receipt as Vonage's "Delivery receipts" page shows it."""
    return {
        "msisdn": "31612345678",
        "to": "AcmeCoffee",
        "network-code": "20416",
        "messageId": message_id,
        "price": "0.03330000",
        "status": status,
        "scts": "2012080915",
        "err-code": err_code,
        "api-key": "abcd1234",
        "message-timestamp": "2026-12-08 09:20:00",
        **more,
    }
