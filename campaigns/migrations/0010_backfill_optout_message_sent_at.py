"""The opt-outs recorded before events carried their message's send time get it here, once:
the first time the campaign sent to the address, found through the address's contacts
(one probe of the (campaign, contact) index each). An opt-out whose contact is gone keeps
none and is left out of the time from send to opt-out, as one by API for an address the
campaign never wrote to."""

from django.db import migrations


def backfill(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    event = quote(apps.get_model("optout", "ConsentEvent")._meta.db_table)
    message = quote(apps.get_model("campaigns", "Message")._meta.db_table)
    contact = quote(apps.get_model("addressbook", "Contact")._meta.db_table)
    # Numbers and emails apart, each with its column's "not empty", so that PostgreSQL
    # reaches the contact through the partial unique index of that column.
    for column, kind in (("phone", "NOT LIKE"), ("email", "LIKE")):
        schema_editor.execute(
            f"UPDATE {event} SET message_sent_at = ("
            f"SELECT MIN(m.sent_at) FROM {message} m JOIN {contact} c ON c.id = m.contact_id "
            f"WHERE m.campaign_id = {event}.campaign_id AND m.{quote('to')} = {event}.address "
            f"AND c.company_id = {event}.company_id "
            f"AND c.{column} = {event}.address AND c.{column} <> '') "
            f"WHERE campaign_id IS NOT NULL AND kind = 'opt_out' AND message_sent_at IS NULL "
            f"AND address {kind} '%%@%%'"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("addressbook", "0011_company_optout_alarm_and_audit_actions"),
        ("campaigns", "0009_sent_tally_and_alarm"),
        ("optout", "0010_consent_event_message_sent_at"),
    ]

    # Undone with the column, which optout's migration drops.
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
