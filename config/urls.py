"""Monolith URLconf: the public API, the internal RPC endpoint, the admin and operations endpoints."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ecommerce import health
from ecommerce.rpc.endpoint import rpc_endpoint

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("django_prometheus.urls")),
    path("internal/rpc/<str:service>/<str:method>", rpc_endpoint, name="internal-rpc"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("apps.gateway.urls")),
]

handler400 = "ecommerce.api.problems.bad_request_view"
handler403 = "ecommerce.api.problems.permission_denied_view"
handler404 = "ecommerce.api.problems.not_found_view"
handler500 = "ecommerce.api.problems.server_error_view"
