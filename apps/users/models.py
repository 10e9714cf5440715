"""Accounts. The e-mail address is the login; it is stored lower-cased and unique regardless of case.

The role is the single source of truth for access: Django's ``is_staff``/``is_superuser`` flags and the user's
membership in the group named after the role are derived from it whenever a user is saved, in ``User.save`` and
nowhere else, so every path (services, the admin, ``createsuperuser``) keeps them in step."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, Group, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from ecommerce.roles import STAFF_ROLES, Role


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("name", "Administrator")
        return self.create_user(email, password, role=Role.ADMIN, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=32, choices=[(r.value, r.value) for r in Role], default=Role.CUSTOMER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, editable=False, help_text="Derived from the role.")
    email_verified = models.BooleanField(
        default=False, editable=False, help_text="The owner opened the link mailed to this address (or a reset link).")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(Lower("email"), name="users_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> User:
        user = super().from_db(db, field_names, values)
        user._saved_role = user.__dict__.get("role")
        return user

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = UserManager.normalize_email(self.email)
        self.is_staff = self.role in STAFF_ROLES
        self.is_superuser = self.role == Role.ADMIN
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff", "is_superuser"}
        role_changed = self._state.adding or getattr(self, "_saved_role", None) != self.role
        super().save(*args, **kwargs)
        if role_changed and (update_fields is None or "role" in update_fields):
            self.sync_role_group()

    def sync_role_group(self) -> None:
        """Make the user a member of exactly one role group: the one named after their role. Other apps grant
        their permissions to these groups, so this is what lets a catalog_staff user manage products in the admin."""
        role_group, _ = Group.objects.get_or_create(name=str(self.role))
        other_role_groups = self.groups.filter(name__in=[role.value for role in Role]).exclude(pk=role_group.pk)
        self.groups.remove(*other_role_groups)
        self.groups.add(role_group)
        self._saved_role = self.role


class RefreshTokenFamily(models.Model):
    """Every refresh token descended from one sign-in: the login's token and each token that replaced another by
    rotation. Only the newest, ``current_jti``, may be exchanged; the rules are in ``apps/users/services/sessions.py``.
    A token names its family in a signed claim, so the family is found without parsing or storing token strings."""

    class EndReason(models.TextChoices):
        LOGOUT = "logout", "signed out"
        REUSE = "reuse", "a replaced refresh token was used again"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    current_jti = models.CharField(max_length=255)
    previous_jti = models.CharField(max_length=255, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="When the current token expires; every older one has expired by then.")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    owner_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "refresh token families"
        indexes = [
            models.Index(fields=["expires_at"], name="users_family_expires_idx"),
            # The sweep that mails owners whose alert task never ran reads only these few rows.
            models.Index(fields=["ended_at"], name="users_family_unalerted_idx",
                         condition=models.Q(end_reason="reuse", owner_alerted_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"sign-in {self.pk} of user {self.user_id}"


class Address(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    full_name = models.CharField(max_length=150)
    street = models.CharField(max_length=255)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=100, blank=True)
    zip_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    phone = models.CharField(max_length=32, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="users_address_one_default_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.full_name}, {self.street}, {self.city} ({self.country})"


# The notification tables belong to this context; importing them here registers them with the users app.
from apps.users.notifications.models import EmailNotification, StockLowAlert  # noqa: E402

__all__ = ["Address", "EmailNotification", "RefreshTokenFamily", "StockLowAlert", "User", "UserManager"]
