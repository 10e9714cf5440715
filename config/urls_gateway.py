"""URLconf of the gateway role (split deployment): the public API and its documentation, health and metrics.

Nothing internal is reachable here: no RPC endpoint and no admin (each domain role serves the admin for its own
models). Readiness includes every role the gateway calls, and names the one that is down."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ecommerce import health
from ecommerce.rpc.readiness import gateway_readyz

# The public API first: URLs are matched in order, and it takes nearly all of the traffic.
urlpatterns = [
    path("api/v1/", include("apps.gateway.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", gateway_readyz, name="readyz"),
    path("", include("ecommerce.metrics")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler400 = "ecommerce.api.problems.bad_request_view"
handler403 = "ecommerce.api.problems.permission_denied_view"
handler404 = "ecommerce.api.problems.not_found_view"
handler500 = "ecommerce.api.problems.server_error_view"
