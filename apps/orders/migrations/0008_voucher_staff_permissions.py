"""Grant catalog_staff what the admin offers of vouchers: manage them (a voucher is a price rule, like a product's
discount) and see which orders redeemed them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTED = {
    "catalog_staff": ["add_voucher", "change_voucher", "delete_voucher", "view_voucher", "view_voucherredemption"],
}


def grant_voucher_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    # Permissions are normally created after all migrations ran; make ours exist now so they can be granted.
    orders_config = apps.get_app_config("orders")
    orders_config.models_module = True
    create_permissions(orders_config, apps=apps, verbosity=0)
    orders_config.models_module = None

    for group_name, codenames in GRANTED.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="orders", codename__in=codenames))


def revoke_voucher_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group_name, codenames in GRANTED.items():
        group = Group.objects.filter(name=group_name).first()
        if group is not None:
            group.permissions.remove(*group.permissions.filter(content_type__app_label="orders",
                                                               codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_vouchers"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_voucher_permissions, revoke_voucher_permissions)]
