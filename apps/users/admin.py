"""Admin for accounts. Only users holding the users app's permissions (admins) see these pages; group membership
is derived from the role, so the forms edit the role and never the groups."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from apps.users.models import Address, User


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "role")


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "name", "role", "is_active")


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0
    fields = ("full_name", "street", "city", "state", "zip_code", "country", "phone", "is_default")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = ("email", "name", "role", "is_active", "date_joined")
    list_filter = ("role", "is_active")
    search_fields = ("email", "name")
    ordering = ("id",)
    readonly_fields = ("is_staff", "is_superuser", "groups_from_role", "last_login", "date_joined")
    filter_horizontal = ()
    inlines = (AddressInline,)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name",)}),
        ("Access", {"fields": ("role", "is_active", "is_staff", "is_superuser", "groups_from_role")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {
            "classes": ("wide",),
            "fields": ("email", "name", "role", "usable_password", "password1", "password2"),
        }),
    )

    @admin.display(description="Groups (from the role)")
    def groups_from_role(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all()) or "—"


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("full_name", "user", "city", "country", "is_default")
    list_filter = ("country", "is_default")
    search_fields = ("full_name", "street", "city", "zip_code", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
