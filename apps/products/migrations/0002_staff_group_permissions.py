"""Lets the catalog_staff group manage the catalog in the Django admin and the order_staff group look at it.
Groups are found by name (the users context assigns members by role), so this app never imports apps.users."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CATALOG_STAFF_GROUP = "catalog_staff"
ORDER_STAFF_GROUP = "order_staff"

CATALOG_STAFF_CODENAMES = [
    "add_category", "change_category", "delete_category", "view_category",
    "add_product", "change_product", "delete_product", "view_product",
    "view_stockreservation",
]
ORDER_STAFF_CODENAMES = ["view_category", "view_product", "view_stockreservation"]


def _ensure_permissions_exist(apps):
    # Permissions are normally created after all migrations ran (post_migrate); create them now. The historical
    # app config has no models module, which create_permissions takes as "no models", hence the stand-in.
    app_config = apps.get_app_config("products")
    app_config.models_module = True
    try:
        create_permissions(app_config, verbosity=0, apps=apps)
    finally:
        app_config.models_module = None


def grant(apps, schema_editor):
    _ensure_permissions_exist(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in ((CATALOG_STAFF_GROUP, CATALOG_STAFF_CODENAMES),
                                  (ORDER_STAFF_GROUP, ORDER_STAFF_CODENAMES)):
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = Permission.objects.filter(content_type__app_label="products", codename__in=codenames)
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="products")
    for group in Group.objects.filter(name__in=[CATALOG_STAFF_GROUP, ORDER_STAFF_GROUP]):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):

    dependencies = [
        ("products", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
