"""A contact's history: the messages the company sent them, their replies and their
consent events, in one place.

The contact's page loads it with htmx; without JavaScript its link opens it as a page of
its own, the same view and template. It reads three apps (campaigns, opt-outs, the
address book), so it lives with the other screens that compose them, not in the address
book, which knows nothing of campaigns.
"""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from addressbook.models import Contact
from addressbook.tenancy import company_required, get_for_company
from campaigns.overview import campaign_names
from campaigns.selectors import messages_to
from optout.selectors import consent_timeline, replies_from

# On the contact's page the latest few, with a link to the rest; on the history page,
# pages of them.
MESSAGES_ON_CONTACT = 10
MESSAGES_PER_PAGE = 50
REPLIES_SHOWN = 50


@require_GET
@company_required
def contact_history(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_company(Contact.objects, request.company, pk=pk)
    per_page = MESSAGES_ON_CONTACT if request.htmx else MESSAGES_PER_PAGE
    page = Paginator(messages_to(company=request.company, contact=contact), per_page).get_page(
        request.GET.get("page")
    )
    replies = list(replies_from(company=request.company, phone=contact.phone)[:REPLIES_SHOWN])
    timeline = list(consent_timeline(company=request.company, addresses=contact.addresses))
    names = campaign_names(
        company=request.company,
        ids={x.campaign_id for x in [*timeline, *replies] if x.campaign_id},
    )
    context = {
        "contact": contact,
        "page": page,
        "embedded": bool(request.htmx),
        "replies": [(reply, names.get(reply.campaign_id)) for reply in replies],
        "replies_capped": len(replies) == REPLIES_SHOWN,
        "timeline": [(event, names.get(event.campaign_id)) for event in timeline],
    }
    template = "insights/contact_history.html"
    if request.htmx:
        template += "#history"
    return render(request, template, context)
