from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """A person's rights over what a company holds about them: erasure, export, retention.

    What is held about a person is spread over every app (the contact in the address book,
    messages in campaigns, replies and consent in optout, the webhook outbox in api). Like
    ``api`` and ``insights``, this app sits above them all and composes them, so that none
    of them needs to know of the others."""

    name = "privacy"
    verbose_name = "Privacy"
