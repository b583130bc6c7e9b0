"""Sending hours for the Netherlands and the United Kingdom, from the research's section 2.

Neither country's law sets quiet hours that the research found; what it gives are vendors'
windows, marked UNCONFIRMED for the Netherlands (09:00-20:00 without Sundays and public
holidays, or 08:00-21:00) and named as guidance for the UK (the DMA Code's "antisocial
times"; 09:00-20:00, or quiet 21:00-08:00 on weekdays and 21:00-09:00 at weekends). The
issue's rule for what is unconfirmed is the stricter reading, so each gets the intersection
of its sources. Staff change them in admin; backwards puts back "any time".
"""

from django.db import migrations

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

RULES = {
    "NL": {
        "send_hours": {**dict.fromkeys(WEEK[:6], ["09:00", "20:00"]), "sun": None},
        "skip_public_holidays": True,
        "note": (
            "Research section 1 [14][15][16]: Telecommunicatiewet art. 11.7, an opt-out in "
            "every message. UNCONFIRMED: a free STOP reply, the word STOPPEN, the 24-hour "
            "deadline. Hours (section 2 [15][16]): no rule in the law found; two "
            "low-authority vendor pages disagree (09:00-20:00 without Sundays and public "
            "holidays, or 08:00-21:00), UNCONFIRMED: the stricter is enforced, 09:00-20:00 "
            "Monday to Saturday, never on a Sunday or a public holiday."
        ),
    },
    "GB": {
        "send_hours": dict.fromkeys(WEEK, ["09:00", "20:00"]),
        "skip_public_holidays": False,
        "note": (
            "Research section 1 [11][12][13][61]: PECR reg. 22, a simple free way to refuse "
            "in every message; the law names no keyword, STOP is practice. No statutory "
            "deadline found (UNCONFIRMED): suppress as soon as practically possible (CAP). "
            "Hours (section 2 [13][85][86]): no statutory quiet hours; the DMA Code asks to "
            "avoid antisocial times, and vendors' guidance differs (09:00-20:00; or quiet "
            "21:00-08:00 on weekdays, 21:00-09:00 at weekends). The stricter reading of "
            "both is enforced: 09:00-20:00 every day. Public holidays are not named by "
            "either, so they are not skipped."
        ),
    },
}


def seed(apps, schema_editor):
    CountryRule = apps.get_model("optout", "CountryRule")
    for country, fields in RULES.items():
        CountryRule.objects.filter(country=country).update(**fields)


def unseed(apps, schema_editor):
    CountryRule = apps.get_model("optout", "CountryRule")
    CountryRule.objects.filter(country__in=RULES).update(send_hours={}, skip_public_holidays=False)


class Migration(migrations.Migration):
    dependencies = [("optout", "0013_country_rules_per_research")]

    operations = [migrations.RunPython(seed, unseed)]
