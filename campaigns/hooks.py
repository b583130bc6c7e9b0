"""Webhooks the SMS gateway calls, signed like the inbound one (see optout.webhooks)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from optout.gateways import adapter_for
from optout.webhooks import BadRequest, secret_of, verify_request, webhook_for

from .delivery import InvalidReport, parse_reports, record_delivery_reports, reports_from_gateway


@csrf_exempt
@require_POST
def delivery_report_webhook(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """One delivery report, or ``{"reports": [...]}``: all applied, or none.

    Through the platform's shared gateway account, or with ``key`` a company's own, whose
    reports reach only that company's messages.
    """
    try:
        webhook = webhook_for(key)
        signed = verify_request(request, secret=secret_of(webhook))
        reports = parse_reports(signed.fields)
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    except InvalidReport as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    company = webhook.company if webhook else None
    return JsonResponse(record_delivery_reports(reports=reports, company=company)._asdict())


@csrf_exempt
@require_POST
def gateway_status_webhook(
    request: HttpRequest, gateway: str, key: str | None = None
) -> HttpResponse:
    """A real gateway's delivery reports (see optout.gateways), through the platform's
    shared account at that gateway or, with ``key``, a company's own."""
    try:
        webhook = webhook_for(key, gateway=gateway)
        reports = reports_from_gateway(adapter_for(gateway).status(request, webhook))
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    company = webhook.company if webhook else None
    return JsonResponse(record_delivery_reports(reports=reports, company=company)._asdict())
