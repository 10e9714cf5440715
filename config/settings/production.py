"""Production settings: refuse to start with anything that is only safe on a developer's machine."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import BASE_DIR, DEBUG, DEFAULT_SECRET_KEY, INTERNAL_AUTH_TOKEN, SECRET_KEY, env

if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production")
if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a long random value in production")
if INTERNAL_AUTH_TOKEN.startswith("insecure-") or len(INTERNAL_AUTH_TOKEN) < 32:
    raise ImproperlyConfigured("INTERNAL_AUTH_TOKEN must be set to a long random value in production")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$", r"^internal/"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Images run collectstatic at build time; serve only what was collected.
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=False)
