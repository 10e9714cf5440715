"""Admin for accounts. Only users holding the users app's permissions (admins) see these pages; group membership
is derived from the role, so the forms edit the role and never the groups.

The admin keeps the rules the API keeps (``apps/users/services``): the last active admin cannot be demoted,
deactivated or deleted, and a role change, a deactivation, a deletion or a new password ends the user's tokens.
Whether the address is verified is shown, never edited: only its owner, by the mailed link, proves it. A new address
is unverified again, and ends the user's access tokens, which claim the old status."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.users import services
from apps.users.models import Address, EmailNotification, User
from apps.users.services import common
from ecommerce.errors import LastAdmin
from ecommerce.roles import Role


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "role")


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "name", "role", "is_active")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk is not None and {"role", "is_active"} & set(self.changed_data):
            # The admin saves inside one transaction: the lock taken here holds until the change is committed.
            _, active_admins = common.locked_user_and_active_admins(self.instance.pk)
            stays = cleaned.get("role") == Role.ADMIN and bool(cleaned.get("is_active"))
            try:
                common.ensure_an_admin_remains(self.instance, active_admins, stays_active_admin=stays)
            except LastAdmin as error:
                raise forms.ValidationError(error.detail, code=LastAdmin.code) from error
        return cleaned


class TokenEndingPasswordChangeForm(AdminPasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        if commit:
            common.access_end(user.pk, refresh_tokens=True)
        return user


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0
    fields = ("full_name", "street", "city", "state", "zip_code", "country", "phone", "is_default")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    change_password_form = TokenEndingPasswordChangeForm
    list_display = ("email", "name", "role", "is_active", "email_verified", "date_joined")
    list_filter = ("role", "is_active", "email_verified")
    search_fields = ("email", "name")
    ordering = ("id",)
    readonly_fields = ("email_verified", "is_staff", "is_superuser", "groups_from_role", "last_login", "date_joined")
    filter_horizontal = ()
    inlines = (AddressInline,)
    fieldsets = (
        (None, {"fields": ("email", "email_verified", "password")}),
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

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        if change and "email" in form.changed_data:
            obj.email_verified = False
        super().save_model(request, obj, form, change)
        if change and {"role", "is_active", "email"} & set(form.changed_data):
            common.access_end(obj.pk, refresh_tokens="is_active" in form.changed_data and not obj.is_active)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.is_active and obj.role == Role.ADMIN and not (
                User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=obj.pk).exists()):
            return False  # the last active admin: the delete page and the bulk action refuse them
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.user_delete(user_id=obj.pk)  # under the locks that keep an admin, and ending the tokens

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user_id in queryset.values_list("pk", flat=True):
            services.user_delete(user_id=user_id)

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


@admin.register(EmailNotification)
class EmailNotificationAdmin(admin.ModelAdmin):
    """What was e-mailed to whom, read-only: operators check a customer's mails and failed sends here."""

    list_display = ("created_at", "kind", "recipient", "subject", "status", "attempts", "sent_at")
    list_filter = ("kind", "status")
    search_fields = ("recipient", "subject", "event_id")
    ordering = ("-created_at", "-id")
    readonly_fields = [field.name for field in EmailNotification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: EmailNotification | None = None) -> bool:
        return False
