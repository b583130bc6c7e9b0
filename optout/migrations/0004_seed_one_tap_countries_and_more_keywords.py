"""Australia and Canada forbid asking for personal data to unsubscribe (Spam Act, CASL):
their landing page confirms with one tap. More reply words, and YES where it means opt-in."""

from django.db import migrations

ONE_TAP = [("AU", "Opt out: {link}"), ("CA", "Opt out: {link}")]

KEYWORDS = [
    # word, action, language, countries
    ("remove", "stop", "en", ""),
    ("abmelden", "stop", "de", ""),
    ("afmelden", "stop", "nl", ""),
    ("yes", "start", "en", "US,CA"),
    ("hilfe", "help", "de", ""),
    ("ayuda", "help", "es", ""),
]


def seed(apps, schema_editor):
    CountryRule = apps.get_model("optout", "CountryRule")
    Keyword = apps.get_model("optout", "Keyword")
    for country, template in ONE_TAP:
        CountryRule.objects.update_or_create(
            country=country, defaults={"method": "link", "template": template, "one_tap": True}
        )
    for word, action, language, countries in KEYWORDS:
        Keyword.objects.update_or_create(
            word=word, defaults={"action": action, "language": language, "countries": countries}
        )


def unseed(apps, schema_editor):
    apps.get_model("optout", "CountryRule").objects.filter(
        country__in=[c for c, _ in ONE_TAP]
    ).delete()
    apps.get_model("optout", "Keyword").objects.filter(word__in=[w for w, *_ in KEYWORDS]).delete()


class Migration(migrations.Migration):
    dependencies = [("optout", "0003_landing_reasons_one_tap_dedicated_numbers")]

    operations = [migrations.RunPython(seed, unseed)]
