"""Grant order_staff what the admin shows of payments: view payments and the provider events that changed them
(both read-only in the admin)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ORDER_STAFF_GROUP = "order_staff"
GRANTED = ["view_payment", "view_providerevent"]


def grant_payment_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    # Permissions are normally created after all migrations ran; make ours exist now so they can be granted.
    orders_config = apps.get_app_config("orders")
    orders_config.models_module = True
    create_permissions(orders_config, apps=apps, verbosity=0)
    orders_config.models_module = None

    group, _ = Group.objects.get_or_create(name=ORDER_STAFF_GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="orders", codename__in=GRANTED))


def revoke_payment_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name=ORDER_STAFF_GROUP).first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(content_type__app_label="orders", codename__in=GRANTED))


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_payments"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_payment_permissions, revoke_payment_permissions)]
