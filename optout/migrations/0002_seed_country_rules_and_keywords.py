"""Defaults staff can edit in admin. Sources: the team's compliance research (section 1)."""

from django.db import migrations

COUNTRY_RULES = [
    # country, method, shortcode, template
    ("FR", "keyword", "36111", "STOP au {shortcode}"),
    ("GB", "keyword", "82228", "Reply STOP to {shortcode}"),
    ("BE", "keyword", "8210", "STOP naar/au {shortcode}"),
    ("NL", "keyword", "3010", "Afmelden: SMS STOP naar {shortcode}"),
    ("DE", "keyword", "44844", "Abmelden: STOP an {shortcode}"),
    ("ZZ", "link", "", "Opt out: {link}"),
]

KEYWORDS = {
    "stop": {
        "en": ["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"],
        # Belgian operators require common misspellings of STOP to count as STOP.
        "": ["tsop", "sotp", "stpo", "stp"],
        "fr": ["arret", "arrete", "arrett"],
        "nl": ["stoppen"],
        "de": ["stopp"],
        "es": ["detener", "salir"],
        "pt": ["parar", "cancelar"],
    },
    "start": {"en": ["start", "unstop"], "es": ["volver"], "pt": ["voltar"]},
    "help": {"en": ["help", "info"], "fr": ["aide"]},
}


def seed(apps, schema_editor):
    CountryRule = apps.get_model("optout", "CountryRule")
    Keyword = apps.get_model("optout", "Keyword")
    for country, method, shortcode, template in COUNTRY_RULES:
        CountryRule.objects.update_or_create(
            country=country,
            defaults={"method": method, "shortcode": shortcode, "template": template},
        )
    for action, by_language in KEYWORDS.items():
        for language, words in by_language.items():
            for word in words:
                Keyword.objects.update_or_create(
                    word=word, defaults={"action": action, "language": language}
                )


def unseed(apps, schema_editor):
    apps.get_model("optout", "CountryRule").objects.filter(
        country__in=[c for c, *_ in COUNTRY_RULES]
    ).delete()
    words = [w for by_language in KEYWORDS.values() for ws in by_language.values() for w in ws]
    apps.get_model("optout", "Keyword").objects.filter(word__in=words).delete()


class Migration(migrations.Migration):
    dependencies = [("optout", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
