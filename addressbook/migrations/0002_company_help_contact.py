from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("addressbook", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="company",
            name="help_contact",
            field=models.CharField(
                blank=True,
                help_text="Where recipients get help, named in HELP replies (phone, email or site).",
                max_length=100,
            ),
        ),
    ]
