from campaigns.models import Message
from campaigns.services import send_transactional
from optout.services import record_optout


def test_transactional_reaches_a_suppressed_number_without_optout_text(company, outbox):
    record_optout(company=company, address="+33612345678", source="sms_keyword")

    message = send_transactional(company=company, to="+33 6 12 34 56 78", body="Code: 482913")

    assert [(sms.to, sms.body) for sms in outbox] == [("+33612345678", "Code: 482913")]
    assert "STOP" not in outbox[0].body
    message.refresh_from_db()
    assert message.kind == Message.Kind.TRANSACTIONAL
    assert message.status == Message.Status.SENT
