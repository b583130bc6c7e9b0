import os

from django.core.wsgi import get_wsgi_application

from .middleware import refuse_unreadable_charset

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = refuse_unreadable_charset(get_wsgi_application())
