"""Give every address suppressed through another address of the same person an event of its
own (source "linked"), dated when it was suppressed, and point its suppression at it.

Before this, such a suppression pointed at the other address's opt-out, so the ledger alone
could not say the linked address was out. Inserted with INSERT … SELECT: the ledger's
triggers refuse an UPDATE of an event, and the dates must be the suppressions' own.
"""

from django.db import migrations

FORWARD = [
    """
    INSERT INTO optout_consentevent (
        company_id, address, country, kind, source, reason, reason_text, raw_text,
        actor_type, actor_label, user_agent, wording_version, consent_method,
        consent_wording, consent_document, linked_event_id, created_at
    )
    SELECT s.company_id, s.address, s.country, 'opt_out', 'linked', '', '', '',
        'system', '', '', '', '', '', '', s.event_id, s.created_at
    FROM optout_suppression s
    JOIN optout_consentevent e ON e.id = s.event_id
    WHERE e.address <> s.address
    """,
    """
    UPDATE optout_suppression SET event_id = (
        SELECT c.id FROM optout_consentevent c
        WHERE c.company_id = optout_suppression.company_id
          AND c.address = optout_suppression.address
          AND c.source = 'linked'
          AND c.linked_event_id = optout_suppression.event_id
    )
    WHERE EXISTS (
        SELECT 1 FROM optout_consentevent e
        WHERE e.id = optout_suppression.event_id AND e.address <> optout_suppression.address
    )
    """,
]


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for statement in FORWARD:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("optout", "0011_ledger_actor_proof_texts_optin")]

    # Backwards the suppressions keep their linked events: the ledger never loses a row.
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
