import os

from django.core.wsgi import get_wsgi_application

from ecommerce.tracing import configure_tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

configure_tracing()
django_application = get_wsgi_application()

# Anonymous catalog reads answered again before Django sees them (apps/gateway/edge.py); other roles get Django alone.
from apps.gateway.edge import with_catalog_edge  # noqa: E402 - needs the apps loaded above

application = with_catalog_edge(django_application)

# Without a broker this serving process also runs the periodic jobs and delivers events (one process per database).
from ecommerce.events.scheduler import start_in_process_scheduler  # noqa: E402 - needs the apps loaded above

start_in_process_scheduler()
