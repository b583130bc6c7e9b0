"""The consent certificate: one address's whole consent record, as a company hands it over.

A standalone HTML document (it prints to PDF from any browser) built from the ledger alone:
the state at a chosen moment, and every event with who made it, where from, and the proof
of consent an opt-in rests on. The fingerprint is a SHA-256 of the events as listed, so a
certificate issued again later can be compared with this one.
"""

import hashlib
import json
from datetime import datetime, time

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET

from addressbook.addresses import InvalidAddress
from addressbook.tenancy import company_required
from campaigns.overview import campaign_names
from optout.selectors import consent_timeline, parse_address, state_at


class CertificateQuery(forms.Form):
    address = forms.CharField(max_length=254)
    at = forms.DateField(required=False, widget=forms.DateInput({"type": "date"}))


def _fingerprint(events) -> str:
    rows = [
        [
            e.pk,
            e.created_at.isoformat(),
            e.address,
            e.kind,
            e.source,
            e.actor_type,
            e.actor_label,
            e.campaign_id,
            e.consent_method,
            e.consent_given_at.isoformat() if e.consent_given_at else None,
            e.consent_wording,
            e.wording_version,
        ]
        for e in events
    ]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


@require_GET
@company_required
def consent_certificate(request: HttpRequest) -> HttpResponse:
    query = CertificateQuery(request.GET)
    if not query.is_valid():
        return HttpResponse(
            "Name the address (a phone number or an email) and, optionally, a date.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    company = request.company
    try:
        address = parse_address(query.cleaned_data["address"], company=company)
    except InvalidAddress as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    timeline = consent_timeline(company=company, addresses=[address])
    events = list(timeline.order_by("created_at", "id"))
    if not events:
        raise Http404("This company holds no consent record of that address.")
    now = timezone.now()
    day = query.cleaned_data["at"]
    when = min(timezone.make_aware(datetime.combine(day, time.max)), now) if day else now
    names = campaign_names(company=company, ids={e.campaign_id for e in events if e.campaign_id})
    context = {
        "company": company,
        "address": address,
        "state": state_at(company=company, address=address, when=when),
        "events": [(e, names.get(e.campaign_id, "")) for e in events],
        "issued_at": now,
        "issued_by": request.user.get_username(),
        "fingerprint": _fingerprint(events),
        # Absolute, so that the downloaded file keeps its looks wherever it is opened.
        "stylesheet": request.build_absolute_uri(static("css/certificate.css")),
    }
    response = render(request, "insights/consent_certificate.html", context)
    if request.GET.get("download"):
        safe = "".join(ch if ch.isalnum() else "-" for ch in address)
        response["Content-Disposition"] = f'attachment; filename="consent-{safe}-{now:%Y%m%d}.html"'
    return response
