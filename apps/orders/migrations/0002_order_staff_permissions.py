"""Grant order_staff what the admin needs: view and change orders (changes happen only through the admin's
actions, which run the order services), and view their lines and status history."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ORDER_STAFF_GROUP = "order_staff"
GRANTED = [
    ("order", ["view", "change"]),
    ("orderline", ["view"]),
    ("orderstatuschange", ["view"]),
]


def grant_order_staff_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    # Permissions are normally created after all migrations ran; make ours exist now so they can be granted.
    orders_config = apps.get_app_config("orders")
    orders_config.models_module = True
    create_permissions(orders_config, apps=apps, verbosity=0)
    orders_config.models_module = None

    group, _ = Group.objects.get_or_create(name=ORDER_STAFF_GROUP)
    codenames = [f"{action}_{model}" for model, actions in GRANTED for action in actions]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="orders", codename__in=codenames))


def revoke_order_staff_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name=ORDER_STAFF_GROUP).first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(content_type__app_label="orders"))


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_order_staff_permissions, revoke_order_staff_permissions)]
