"""An index for the campaign page's list of messages, in id order.

Built without locking the table on PostgreSQL (CREATE INDEX CONCURRENTLY, which cannot run
in a transaction): the message table is the largest there is, and sending goes on while
the index is built. Elsewhere (SQLite) the plain way.
"""

from django.db import migrations, models

INDEX = models.Index(fields=["campaign", "id"], name="message_campaign_id_idx")


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def create(apps, schema_editor):
    message = apps.get_model("campaigns", "Message")
    schema_editor.add_index(message, INDEX, **_concurrently(schema_editor))


def drop(apps, schema_editor):
    message = apps.get_model("campaigns", "Message")
    schema_editor.remove_index(message, INDEX, **_concurrently(schema_editor))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("campaigns", "0013_email_feedback_and_reference")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="message", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
