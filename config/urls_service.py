"""URLconf of a domain role (split deployment): the signed internal RPC endpoint for the contract it owns, the
Django admin for its own models, health and metrics. It never serves the public API.

The admin site here holds only the role's own models: the users app is installed in every domain role for its
shadow user table (see ``ecommerce.rpc.shadow_users``), but its admin pages belong to the users role alone."""

from importlib import import_module

from django.contrib import admin
from django.urls import include, path

from config.roles import OWNED_APP_LABELS
from ecommerce import deployment, health
from ecommerce.admin_titles import title_admin_site


def role_admin_site() -> admin.AdminSite:
    """Copies the registrations of the role's own apps from the default site (filled by autodiscovery)."""
    role = deployment.process_role()
    owned = OWNED_APP_LABELS[role]
    site = title_admin_site(admin.AdminSite(name="admin"), role)
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in owned:
            site.register(model, type(model_admin))
    return site


admin_site = role_admin_site()
# The internal endpoint finds a contract by the delegator its module creates; make sure the role's own exists even
# when none of the role's code happened to import it yet.
for service in deployment.services_owned_by(deployment.process_role()):
    import_module(f"ecommerce.contracts.{service}")

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("ecommerce.metrics")),
    path("", include("ecommerce.rpc.urls")),
    path("admin/", admin_site.urls),
]

handler400 = "ecommerce.api.problems.bad_request_view"
handler403 = "ecommerce.api.problems.permission_denied_view"
handler404 = "ecommerce.api.problems.not_found_view"
handler500 = "ecommerce.api.problems.server_error_view"
