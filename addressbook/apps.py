from django.apps import AppConfig


class AddressbookConfig(AppConfig):
    name = "addressbook"
    verbose_name = "Address book"

    def ready(self) -> None:
        from . import lookups  # noqa: F401  (registers field__any)
