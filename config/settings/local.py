"""Developer defaults: DEBUG on unless told otherwise; everything else comes from base. With DEBUG turned off, the
same refusal of development secrets as in production applies."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env
from config.settings.safety import refuse_unsafe_settings

DEBUG = env.bool("DJANGO_DEBUG", default=True)

refuse_unsafe_settings(globals())
