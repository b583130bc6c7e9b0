from django.apps import AppConfig
from django.urls import register_converter


class IdConverter:
    """``<id:pk>``: an id in a path is digits that fit a 64-bit column, else no route.

    A larger number then gets the API's own JSON 404 rather than a database error.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        register_converter(IdConverter, "id")
