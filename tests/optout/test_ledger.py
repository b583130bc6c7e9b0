"""The consent record is append-only, and says alone what an address's state was."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

from optout.consent import PERSON, Actor, Proof, Seen
from optout.models import ActorType, ConsentEvent, ConsentMethod, LedgerError, Source, Suppression
from optout.selectors import state_at
from optout.services import record_optin, record_optout
from tests.factories import ContactFactory

NUMBER, EMAIL = "+31612345678", "anna@example.com"
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"
)


def _proof(**changes) -> Proof:
    values = {
        "method": ConsentMethod.PAPER,
        "given_at": datetime(2026, 11, 2, 10, tzinfo=UTC),
        "wording": "Yes, send me offers by SMS.",
    } | changes
    return Proof(**values)


@pytest.fixture
def event(company):
    return record_optout(
        company=company, address=NUMBER, source=Source.LANDING_PAGE, reason_text="Too often"
    )


def test_the_model_refuses_to_change_or_delete_an_event(event):
    event.reason = "other"
    with pytest.raises(LedgerError):
        event.save()
    with pytest.raises(LedgerError):
        event.delete()
    with pytest.raises(LedgerError):
        ConsentEvent.objects.filter(pk=event.pk).update(kind=ConsentEvent.Kind.OPT_IN)
    with pytest.raises(LedgerError):
        ConsentEvent.objects.filter(pk=event.pk).delete()
    stored = ConsentEvent.objects.get(pk=event.pk)
    assert (stored.kind, stored.reason) == (ConsentEvent.Kind.OPT_OUT, "")


def test_only_blanking_the_free_text_is_allowed(event):
    ConsentEvent.objects.filter(pk=event.pk).update(reason_text="", raw_text="", user_agent="")
    assert ConsentEvent.objects.get(pk=event.pk).reason_text == ""
    with pytest.raises(LedgerError):
        ConsentEvent.objects.filter(pk=event.pk).update(reason_text="Something else")


@on_postgresql
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE optout_consentevent SET kind = 'opt_in' WHERE id = %s",
        "UPDATE optout_consentevent SET created_at = now() - interval '1 year' WHERE id = %s",
        "UPDATE optout_consentevent SET reason_text = 'forged' WHERE id = %s",
        "UPDATE optout_consentevent SET ip_address = '10.0.0.1' WHERE id = %s",
        "DELETE FROM optout_consentevent WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_sql_that_changes_or_deletes(event, statement):
    with (
        pytest.raises(DatabaseError, match="Cannot"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    stored = ConsentEvent.objects.get(pk=event.pk)
    assert (stored.kind, stored.reason_text) == (ConsentEvent.Kind.OPT_OUT, "Too often")


@on_postgresql
def test_the_database_refuses_the_orm_past_the_model_guard(event):
    # Past the queryset's own guard, as code that bypasses the model would be.
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet.update(ConsentEvent.objects.filter(pk=event.pk), source=Source.ADMIN)
    with pytest.raises(DatabaseError), transaction.atomic():
        rows = ConsentEvent.objects.filter(pk=event.pk)
        rows._raw_delete(rows.db)
    assert ConsentEvent.objects.get(pk=event.pk).source == Source.LANDING_PAGE


@on_postgresql
def test_the_database_lets_the_free_text_be_blanked(event):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE optout_consentevent SET reason_text = '', ip_address = NULL WHERE id = %s",
            [event.pk],
        )
    assert ConsentEvent.objects.get(pk=event.pk).reason_text == ""


def test_a_linked_address_gets_an_event_of_its_own(company):
    ContactFactory(company=company, phone=NUMBER, email=EMAIL)
    out = record_optout(company=company, address=NUMBER, source=Source.SMS_KEYWORD)

    linked = ConsentEvent.objects.get(address=EMAIL)
    assert (linked.kind, linked.source, linked.linked_event) == ("opt_out", "linked", out)
    assert Suppression.objects.get(address=EMAIL).event == linked

    back = record_optin(company=company, address=NUMBER, source=Source.SMS_KEYWORD)
    lifted = ConsentEvent.objects.filter(address=EMAIL).order_by("id").last()
    assert (lifted.kind, lifted.source, lifted.linked_event) == ("opt_in", "linked", back)
    assert not Suppression.objects.exists()


def test_an_address_out_on_its_own_stays_out_when_the_other_comes_back(company):
    ContactFactory(company=company, phone=NUMBER, email=EMAIL)
    record_optout(company=company, address=EMAIL, source=Source.ONE_CLICK)
    record_optout(company=company, address=NUMBER, source=Source.SMS_KEYWORD)
    # Already out by its own choice: no linked event, and START of the number leaves it.
    assert not ConsentEvent.objects.filter(address=EMAIL, source=Source.LINKED).exists()

    record_optin(company=company, address=NUMBER, source=Source.SMS_KEYWORD)

    assert list(Suppression.objects.values_list("address", flat=True)) == [EMAIL]


def test_state_at_reads_out_in_out_from_the_ledger(company):
    def at(day: int) -> datetime:
        return datetime(2026, 3, day, 12, tzinfo=UTC)

    with time_machine.travel(at(1), tick=False):
        first = record_optout(company=company, address=NUMBER, source=Source.LANDING_PAGE)
    with time_machine.travel(at(10), tick=False):
        back = record_optin(
            company=company, address=NUMBER, source=Source.DASHBOARD, proof=_proof(given_at=at(9))
        )
    with time_machine.travel(at(20), tick=False):
        again = record_optout(company=company, address=NUMBER, source=Source.SMS_KEYWORD)

    def state(day: int):
        return state_at(company=company, address=NUMBER, when=at(day))

    assert state(1).suppressed and state(1).event == first
    assert not state(15).suppressed and state(15).event == back
    assert state(25).suppressed and state(25).event == again
    before = state_at(company=company, address=NUMBER, when=datetime(2026, 2, 1, tzinfo=UTC))
    assert before.event is None and not before.suppressed


def test_state_at_knows_a_linked_address(company):
    ContactFactory(company=company, phone=NUMBER, email=EMAIL)
    record_optout(company=company, address=NUMBER, source=Source.SMS_KEYWORD)
    assert state_at(company=company, address=EMAIL, when=datetime.now(UTC)).suppressed


def test_state_at_of_one_company_ignores_another(company, other_company):
    record_optout(company=other_company, address=NUMBER, source=Source.SMS_KEYWORD)
    assert not state_at(company=company, address=NUMBER, when=datetime.now(UTC)).suppressed


def test_each_event_records_who_and_from_where(company, marketer):
    seen = Seen(ip_address="203.0.113.9", user_agent="Firefox/140", wording_version="v1/nl")
    own = record_optout(company=company, address=NUMBER, source=Source.LANDING_PAGE, seen=seen)
    made = record_optout(
        company=company, address=EMAIL, source=Source.DASHBOARD, actor=Actor.user(marketer)
    )

    own.refresh_from_db()
    assert (own.actor_type, own.ip_address, own.user_agent, own.wording_version) == (
        ActorType.PERSON,
        "203.0.113.9",
        "Firefox/140",
        "v1/nl",
    )
    assert (made.actor_type, made.actor_id, made.actor_label) == (
        ActorType.USER,
        marketer.pk,
        marketer.get_username(),
    )


def test_an_optin_for_the_person_needs_proof(company):
    from optout.consent import ConsentProofRequired

    record_optout(company=company, address=NUMBER, source=Source.LANDING_PAGE)
    for source in (Source.DASHBOARD, Source.API, Source.ADMIN, Source.IMPORT):
        with pytest.raises(ConsentProofRequired):
            record_optin(company=company, address=NUMBER, source=source)
    with pytest.raises(ConsentProofRequired, match="wording"):
        record_optin(
            company=company, address=NUMBER, source=Source.DASHBOARD, proof=_proof(wording=" ")
        )
    with pytest.raises(ConsentProofRequired, match="future"):
        future = datetime(2999, 1, 1, tzinfo=UTC)
        record_optin(
            company=company, address=NUMBER, source=Source.DASHBOARD, proof=_proof(given_at=future)
        )
    assert Suppression.objects.filter(address=NUMBER).exists()

    back = record_optin(company=company, address=NUMBER, source=Source.DASHBOARD, proof=_proof())

    assert not Suppression.objects.filter(address=NUMBER).exists()
    assert (back.consent_method, back.consent_wording) == ("paper", "Yes, send me offers by SMS.")


def test_the_persons_own_start_is_its_own_proof(company):
    record_optout(company=company, address=NUMBER, source=Source.LANDING_PAGE)
    back = record_optin(
        company=company, address=NUMBER, source=Source.SMS_KEYWORD, raw_text="START", actor=PERSON
    )
    assert (back.consent_method, back.consent_wording) == (ConsentMethod.KEYWORD, "START")


def test_a_person_out_with_both_addresses_counts_once(company):
    from datetime import timedelta

    from optout.overview import optouts_between

    ContactFactory(company=company, phone=NUMBER, email=EMAIL)
    record_optout(company=company, address=NUMBER, source=Source.SMS_KEYWORD)
    now = datetime.now(UTC)
    assert optouts_between(company=company, start=now - timedelta(hours=1), end=now) == 1
