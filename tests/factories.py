import factory
from django.contrib.auth import get_user_model

from addressbook.models import Company, Contact, Membership
from campaigns.models import Campaign
from optout.models import GatewayWebhook


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")
    default_country = "NL"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    """Dutch mobile numbers +31 6 1000 0000 onwards; pass phone/country for others."""

    class Meta:
        model = Contact

    company = factory.SubFactory(CompanyFactory)
    phone = factory.Sequence(lambda n: f"+316{10000000 + n}")
    country = "NL"
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Tester"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    sender = "Tester"
    body = "Hello {{ first_name }}, 20% off today."


class GatewayWebhookFactory(factory.django.DjangoModelFactory):
    """A company's own gateway account; key and secret are generated as in production."""

    class Meta:
        model = GatewayWebhook

    company = factory.SubFactory(CompanyFactory)


def backdate_events(events, at) -> None:
    """Give consent events another moment, as a test of dates needs: the ledger refuses
    any change to everyone else (its triggers on PostgreSQL, its queryset elsewhere)."""
    import pgtrigger
    from django.db.models import QuerySet

    with pgtrigger.ignore("optout.ConsentEvent:consent_event_no_update"):
        QuerySet.update(events, created_at=at)
