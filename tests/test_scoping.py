"""Inside a company's scope, a tenant query that does not pin that company raises."""

import pytest
from django.apps import apps
from django.db.models import Count, Q
from django.http import HttpResponse
from django.test import RequestFactory

from addressbook.models import Company, Contact, Group
from addressbook.scoping import TenantManager, TenantScopeError, tenant_scope, unscoped
from addressbook.tenancy import company_required
from campaigns.models import Message
from optout.models import Suppression
from optout.services import record_optout
from tests.factories import CampaignFactory, ContactFactory

EVALUATIONS = {
    "fetch": lambda qs: list(qs),
    "count": lambda qs: qs.count(),
    "exists": lambda qs: qs.exists(),
    "aggregate": lambda qs: qs.aggregate(n=Count("id")),
    "iterator": lambda qs: list(qs.iterator()),
    "get": lambda qs: qs.get(first_name="Ada"),
    "first": lambda qs: qs.first(),
    "values": lambda qs: list(qs.values_list("phone", flat=True)),
    "update": lambda qs: qs.update(last_name="Changed"),
    "delete": lambda qs: qs.delete(),
}


@pytest.fixture
def ada(company):
    return ContactFactory(company=company, first_name="Ada")


@pytest.fixture
def theirs(other_company):
    return ContactFactory(company=other_company, first_name="Ada")


@pytest.mark.parametrize("evaluate", EVALUATIONS.values(), ids=EVALUATIONS)
def test_query_without_the_company_raises(company, ada, theirs, evaluate):
    with tenant_scope(company), pytest.raises(TenantScopeError, match="addressbook.Contact"):
        evaluate(Contact.objects.all())
    assert Contact.objects.filter(last_name="Tester").count() == 2


@pytest.mark.parametrize("evaluate", EVALUATIONS.values(), ids=EVALUATIONS)
def test_query_of_the_scopes_company_passes(company, ada, theirs, evaluate):
    with tenant_scope(company):
        evaluate(Contact.objects.filter(company=company))
    assert Contact.objects.get(company=theirs.company).last_name == "Tester"


def test_query_naming_another_company_raises(company, other_company, theirs):
    with tenant_scope(company):
        with pytest.raises(TenantScopeError):
            list(Contact.objects.filter(company=other_company))
        with pytest.raises(TenantScopeError):
            Contact.objects.filter(company_id=other_company.pk).count()


def test_company_by_id_and_by_related_manager_pass(company, ada):
    with tenant_scope(company):
        assert Contact.objects.get(company_id=company.pk, pk=ada.pk) == ada
        assert Contact.objects.filter(company_id=str(company.pk)).count() == 1
        assert list(company.contacts.all()) == [ada]
        assert Contact.objects.filter(company__in=[company]).count() == 1


def test_company_through_a_join_passes(company, ada):
    campaign = CampaignFactory(company=company)
    Message.objects.create(company=company, campaign=campaign, contact=ada, to=ada.phone)
    with tenant_scope(company):
        assert Message.objects.filter(contact__company=company).count() == 1
        with pytest.raises(TenantScopeError):
            Message.objects.filter(campaign=campaign).count()


def test_a_condition_that_does_not_hold_for_every_row_does_not_count(company, other_company, ada):
    with tenant_scope(company):
        with pytest.raises(TenantScopeError):
            Contact.objects.filter(Q(company=company) | Q(first_name="Ada")).count()
        with pytest.raises(TenantScopeError):
            Contact.objects.exclude(company=other_company).count()
        with pytest.raises(TenantScopeError):
            Contact.objects.filter(company__in=[company, other_company]).count()
        either = Q(company=company, first_name="Ada") | Q(company=company, first_name="Bo")
        assert Contact.objects.filter(either).count() == 1


def test_bare_related_manager_raises(company, ada):
    group = Group.objects.create(company=company, name="Fair")
    ada.groups.add(group)
    with tenant_scope(company):
        with pytest.raises(TenantScopeError, match="addressbook.Group"):
            list(ada.groups.all())
        assert list(ada.groups.filter(company=company)) == [group]


def tenant_models() -> list:
    return [
        model
        for model in apps.get_models()
        if any(
            field.concrete and field.is_relation and field.related_model is Company
            for field in model._meta.get_fields()
            if field.many_to_one or field.one_to_one
        )
    ]


def test_every_model_with_a_company_is_reached_through_the_tenant_manager():
    assert len(tenant_models()) >= 13
    for model in tenant_models():
        label = model._meta.label
        assert isinstance(model._default_manager, TenantManager), f"{label}: objects = ..."
        company = model._meta.get_field("company")
        assert company.related_model is Company, f"{label} names its company field company"


def test_every_tenant_model_is_guarded(company, ada):
    record_optout(company=company, address=ada.phone, source="landing_page")
    with tenant_scope(company), pytest.raises(TenantScopeError, match="optout.Suppression"):
        Suppression.objects.filter(address=ada.phone).exists()


def test_outside_a_scope_nothing_changes(company, ada, theirs):
    assert Contact.objects.count() == 2
    assert list(ada.groups.all()) == []


def test_unscoped_lets_a_deliberate_cross_company_query_through(company, ada, theirs):
    with tenant_scope(company):
        with unscoped(reason="a test of the escape hatch"):
            assert Contact.objects.count() == 2
        with pytest.raises(TenantScopeError):
            Contact.objects.count()


def test_an_empty_queryset_passes(company, ada):
    with tenant_scope(company):
        assert list(Contact.objects.none()) == []


def test_a_query_that_cannot_be_printed_still_raises_the_scope_error(company, ada):
    with tenant_scope(company), pytest.raises(TenantScopeError):
        list(Contact.objects.filter(pk__in=[]))


def test_scope_closes_when_its_block_raises(company, ada, theirs):
    with pytest.raises(RuntimeError, match="the view failed"), tenant_scope(company):
        raise RuntimeError("the view failed")
    assert Contact.objects.count() == 2


def test_company_required_views_run_in_their_companys_scope(marketer, company, ada, theirs):
    @company_required
    def forgetful(request):
        return HttpResponse(str(Contact.objects.count()))

    @company_required
    def careful(request):
        return HttpResponse(str(Contact.objects.filter(company=request.company).count()))

    request = RequestFactory().get("/")
    request.user, request.session = marketer, {}
    assert careful(request).content == b"1"
    with pytest.raises(TenantScopeError):
        forgetful(request)
    # The scope ended with the view: the test's own query is not held to it.
    assert Contact.objects.count() == 2
