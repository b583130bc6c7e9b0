"""The API benchmark's settings: the landing bench's (the project's own, DEBUG off, from
the environment the bench sets) with the API's floor view mounted."""

from bench.landing_settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
