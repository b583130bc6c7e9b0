"""Hours in which marketing SMS may reach each country, in the recipient's local time.

France: the strictest reading of the rules vendors and carriers apply (weekdays 08-20,
Saturday 10-18, never Sunday or a public holiday). South Africa: the CPA regulations
(weekdays 08-20, Saturday 09-13, never Sunday or a public holiday). United States: the
TCPA's 08-21 local time, every day; it gets a rule of its own with the default link.
"""

from django.db import migrations, models

import optout.sendhours

WEEKDAYS_8_TO_20 = dict.fromkeys(["mon", "tue", "wed", "thu", "fri"], ["08:00", "20:00"])
SEND_HOURS = {
    "FR": ({**WEEKDAYS_8_TO_20, "sat": ["10:00", "18:00"], "sun": None}, True),
    "ZA": ({**WEEKDAYS_8_TO_20, "sat": ["09:00", "13:00"], "sun": None}, True),
    "US": (
        dict.fromkeys(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ["08:00", "21:00"]),
        False,
    ),
}


def seed(apps, schema_editor):
    CountryRule = apps.get_model("optout", "CountryRule")
    default = CountryRule.objects.filter(country="ZZ").first()
    for country, (hours, skip_holidays) in SEND_HOURS.items():
        rule = CountryRule.objects.filter(country=country).first()
        if rule is None and default is not None:
            rule = CountryRule(country=country, method=default.method, template=default.template)
        if rule is not None:
            rule.send_hours, rule.skip_public_holidays = hours, skip_holidays
            rule.save()


def unseed(apps, schema_editor):
    CountryRule = apps.get_model("optout", "CountryRule")
    CountryRule.objects.filter(country="US").delete()
    CountryRule.objects.filter(country__in=SEND_HOURS).update(
        send_hours={}, skip_public_holidays=False
    )


class Migration(migrations.Migration):
    dependencies = [
        ("optout", "0004_seed_one_tap_countries_and_more_keywords"),
    ]

    operations = [
        migrations.AddField(
            model_name="countryrule",
            name="send_hours",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Recipients\' local hours in which marketing SMS may go, per weekday: {"mon": ["08:00", "20:00"], …, "sun": null} (null: not that day; a day left out: all day). Empty: any time. Messages outside them wait, never dropped.',
                validators=[optout.sendhours.validate_send_hours],
            ),
        ),
        migrations.AddField(
            model_name="countryrule",
            name="skip_public_holidays",
            field=models.BooleanField(
                default=False, help_text="No marketing SMS on the country's public holidays."
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
