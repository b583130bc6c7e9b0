from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """The screens that compose several apps: the home page and the company's insights.

    Like ``api``, it sits above the apps it reads and calls only their selectors."""

    name = "insights"
