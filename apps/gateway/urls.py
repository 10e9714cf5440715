"""Public API v1. Each module serves one bounded context's endpoints and calls only that context's contract."""

from django.urls import include, path

# The catalog first: URLs are matched in order, and catalog reads are most of the traffic.
urlpatterns = [
    path("", include("apps.gateway.api.catalog")),
    path("", include("apps.gateway.api.accounts")),
    path("", include("apps.gateway.api.cart")),
    path("", include("apps.gateway.api.orders")),
    path("", include("apps.gateway.api.payments")),
    path("", include("apps.gateway.api.vouchers")),
]
