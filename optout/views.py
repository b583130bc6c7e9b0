from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from addressbook.services.audit import Action, record_audit
from addressbook.tenancy import company_required, get_for_company

from .consent import Actor
from .gateways import adapter_for
from .models import InboundMessage
from .multipart import receive_reply
from .selectors import replies_to_review
from .services import dismiss_reply, optout_from_reply, receive_inbound_sms
from .webhooks import BadRequest, secret_of, verify_request, webhook_for


@csrf_exempt
@require_POST
def inbound_sms(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """Replies through the platform's shared gateway account, or with ``key`` a company's own."""
    try:
        webhook = webhook_for(key)
        signed = verify_request(request, secret=secret_of(webhook), required=("from", "to", "text"))
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    fields = signed.fields
    inbound = receive_inbound_sms(
        sender=fields["from"],
        recipient=fields["to"],
        text=fields["text"],
        reference=str(fields.get("reference") or ""),
        received_at=str(fields.get("received_at") or ""),
        webhook=webhook,
        digest=signed.digest,
        signed_at=signed.signed_at,
    )
    return JsonResponse({"id": inbound.pk, "status": inbound.status})


@csrf_exempt
@require_POST
def gateway_inbound_sms(request: HttpRequest, gateway: str, key: str | None = None) -> HttpResponse:
    """A real gateway's reply (see optout.gateways), through the platform's shared account
    at that gateway, or with ``key`` a company's own."""
    try:
        adapter = adapter_for(gateway)
        webhook = webhook_for(key, gateway=gateway)
        reply = adapter.inbound(request, webhook)
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    received = receive_reply(gateway=gateway, reply=reply, webhook=webhook)
    if adapter.inbound_answer is not None:
        content, content_type = adapter.inbound_answer
        return HttpResponse(content, content_type=content_type)
    if received.inbound is None:
        return JsonResponse(
            {"status": "part_received", "parts": received.parts, "of": received.total}
        )
    return JsonResponse({"id": received.inbound.pk, "status": received.inbound.status})


@require_GET
@company_required
def replies(request: HttpRequest) -> HttpResponse:
    page = Paginator(replies_to_review(company=request.company), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "optout/replies.html", {"page": page})


@require_POST
@company_required
def reply_action(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = get_for_company(
        InboundMessage.objects.filter(status=InboundMessage.Status.UNMATCHED),
        request.company,
        pk=pk,
    )
    if request.POST.get("action") == "optout":
        optout_from_reply(inbound=inbound, actor=Actor.user(request.user))
        record_audit(
            company=request.company,
            action=Action.OPTOUT_RECORDED,
            actor=request.user,
            obj=inbound,
            target=inbound.sender_e164,
            details={"reply": inbound.text[:200]},
            ip=request.META.get("REMOTE_ADDR"),
        )
        messages.success(request, f"{inbound.sender_e164} is opted out.")
    else:
        dismiss_reply(inbound=inbound)
        messages.info(request, "Reply dismissed.")
    return redirect("optout:replies")
