"""The landing benchmark's settings: the project's own (DEBUG off, from the environment the
bench sets), plus a bare view to measure the floor against."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.landing_urls"
# Collected by the bench, as a deploy does before gunicorn starts (DEBUG off serves the
# hashed names of the manifest).
STATIC_ROOT = VAR_DIR / "bench" / "static"  # noqa: F405
