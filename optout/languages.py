"""Which language to speak to a recipient: their number's country first, then the browser."""

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

COUNTRY_LANGUAGES = {
    **dict.fromkeys(["FR", "LU", "MC"], "fr"),
    **dict.fromkeys(["NL", "SR"], "nl"),
    **dict.fromkeys(["DE", "AT", "LI"], "de"),
    **dict.fromkeys(
        ["ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO", "HN", "PY",
         "SV", "NI", "CR", "PA", "UY"],
        "es",
    ),
    **dict.fromkeys(["GB", "IE", "US", "AU", "NZ", "ZA"], "en"),
}  # fmt: skip
# Countries with several official languages (BE, CH, CA) are left to the browser.


def supported(language: str) -> str:
    codes = {code for code, _ in settings.LANGUAGES}
    return language if language in codes else ""


def language_for(*, country: str = "", request: HttpRequest | None = None, chosen: str = "") -> str:
    if supported(chosen):
        return chosen
    if country in COUNTRY_LANGUAGES:
        return COUNTRY_LANGUAGES[country]
    if request is not None:
        return translation.get_language_from_request(request)
    return settings.LANGUAGE_CODE
