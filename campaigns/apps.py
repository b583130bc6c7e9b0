from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from anymail.signals import inbound, tracking

        from . import checks  # noqa: F401  (registers the system checks)
        from .email_hooks import on_inbound, on_tracking

        tracking.connect(on_tracking, dispatch_uid="campaigns.email_tracking")
        inbound.connect(on_inbound, dispatch_uid="campaigns.email_inbound")
