from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from addressbook.tenancy import company_required

from .selectors import suppression_list
from .services import receive_inbound_sms
from .webhooks import BadRequest, verified_fields


@csrf_exempt
@require_POST
def inbound_sms(request: HttpRequest) -> HttpResponse:
    try:
        fields = verified_fields(request, settings.SMS_WEBHOOK_SECRET, ("from", "to", "text"))
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    inbound = receive_inbound_sms(
        sender=fields["from"],
        recipient=fields["to"],
        text=fields["text"],
        reference=str(fields.get("reference") or ""),
    )
    return JsonResponse({"id": inbound.pk, "status": inbound.status})


@require_GET
@company_required
def suppressions(request: HttpRequest) -> HttpResponse:
    page = Paginator(suppression_list(company=request.company), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "optout/suppression_list.html", {"page": page})
