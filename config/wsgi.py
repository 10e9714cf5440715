import os

from django.core.wsgi import get_wsgi_application

from ecommerce.tracing import configure_tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

configure_tracing()
application = get_wsgi_application()
