"""One auth Group per role, named after the role value. Other apps grant their own model permissions to these groups
in their own migrations (looking them up by name); this app grants its own (users and addresses) to admins only."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_NAMES = ["customer", "catalog_staff", "order_staff", "admin"]
USERS_APP_MODELS = ["user", "address"]


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLE_NAMES}

    # Permissions are normally created after all migrations ran; make ours exist now so they can be granted.
    users_config = apps.get_app_config("users")
    users_config.models_module = True  # the historical config has none, which create_permissions reads as "no models"
    try:
        create_permissions(users_config, apps=apps, verbosity=0)
    finally:
        users_config.models_module = None

    permissions = Permission.objects.filter(content_type__app_label="users", content_type__model__in=USERS_APP_MODELS)
    groups["admin"].permissions.add(*permissions)

    User = apps.get_model("users", "User")
    for name, group in groups.items():
        group.user_set.add(*User.objects.filter(role=name))


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_NAMES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
