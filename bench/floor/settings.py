"""The floor: the least Django needs to answer a request. No apps, no middleware, no database; one view that
returns a JSON page the harness captured from the shop itself, so both serve the same bytes. The benchmark runs it
under the same gunicorn settings as the shop and reports the shop's throughput as a share of this one's."""

import os

SECRET_KEY = "benchmark-floor-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.floor.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
FLOOR_PAGE_PATH = os.environ["BENCH_FLOOR_PAGE"]
