"""Country rules of one destination per opt-out method, whatever the seeded data holds."""

from optout.models import CountryRule

Method = CountryRule.Method
RULES = (
    ("FR", Method.KEYWORD, "36111", "STOP au {shortcode}"),
    ("ZA", Method.KEYWORD_AND_LINK, "31222", "Reply STOP to {shortcode} or opt out: {link}"),
    ("ZZ", Method.LINK, "", "Opt out: {link}"),
)


def one_rule_per_method() -> None:
    """FR: reply STOP; ZA: reply STOP or the link; everywhere else: the link. Any hour."""
    for country, method, shortcode, template in RULES:
        CountryRule.objects.update_or_create(
            country=country,
            defaults={
                "method": method,
                "shortcode": shortcode,
                "template": template,
                "send_hours": {},
                "skip_public_holidays": False,
            },
        )
    CountryRule.objects.exclude(country__in=[country for country, *_ in RULES]).delete()
