"""Reading ``EMAIL_URL`` into Django's email settings."""

from urllib.parse import urlsplit

import environ


def email_url_settings(url: str) -> dict:
    """Django's EMAIL_* settings from an SMTP URL.

    ``smtp+tls://`` is STARTTLS (usually port 587), ``smtps://`` or ``smtp+ssl://`` TLS from
    the first byte (usually 465), ``smtp://`` plain. django-environ reads ``smtps://`` as
    STARTTLS, which against a port-465 server hangs until the timeout: corrected here.
    """
    config = environ.Env.email_url_config(url)
    if urlsplit(url).scheme == "smtps":
        config.pop("EMAIL_USE_TLS", None)
        config["EMAIL_USE_SSL"] = True
    # None (no user in the URL) would make Django try to log in with an empty name.
    config["EMAIL_HOST_USER"] = config.get("EMAIL_HOST_USER") or ""
    config["EMAIL_HOST_PASSWORD"] = config.get("EMAIL_HOST_PASSWORD") or ""
    return config
