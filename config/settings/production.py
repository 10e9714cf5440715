"""Production settings: refuse to start with anything that is only safe on a developer's machine, and send the
browser-facing security headers ``manage.py check --deploy`` asks for, with nothing silenced."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import BASE_DIR, DEBUG, env
from config.settings.safety import refuse_unsafe_settings

if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$", r"^internal/"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# A year, subdomains included: the shop and everything under its domain are HTTPS only. ``preload`` only makes the
# domain eligible for the browsers' built-in list; nothing is listed until its owner submits it, so the directive is
# sent by default and an operator whose subdomains cannot all serve HTTPS turns it (and includeSubDomains) off.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Images run collectstatic at build time; serve only what was collected.
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=False)

refuse_unsafe_settings(globals())
