"""Webhooks the SMS gateway calls, signed like the inbound one (see optout.webhooks)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from optout.webhooks import BadRequest, verify_request

from .delivery import InvalidReport, parse_reports, record_delivery_reports


@csrf_exempt
@require_POST
def delivery_report_webhook(request: HttpRequest) -> HttpResponse:
    """One delivery report, or ``{"reports": [...]}``: all applied, or none."""
    try:
        signed = verify_request(request, secret=settings.SMS_WEBHOOK_SECRET)
        reports = parse_reports(signed.fields)
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    except InvalidReport as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(record_delivery_reports(reports=reports)._asdict())
