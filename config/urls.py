"""Monolith URLconf: the public API, the admin and operations endpoints.

No internal RPC endpoint: the monolith calls every contract in-process, so it has nothing to serve there, and a
public port must never route a door that only a shared secret guards (``ecommerce/rpc/urls.py``)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ecommerce import health
from ecommerce.admin_titles import title_admin_site

title_admin_site(admin.site)

# The public API first: URLs are matched in order, and it takes nearly all of the traffic.
urlpatterns = [
    path("api/v1/", include("apps.gateway.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("ecommerce.metrics")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler400 = "ecommerce.api.problems.bad_request_view"
handler403 = "ecommerce.api.problems.permission_denied_view"
handler404 = "ecommerce.api.problems.not_found_view"
handler500 = "ecommerce.api.problems.server_error_view"
