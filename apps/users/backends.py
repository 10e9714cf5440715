"""Sign-in by e-mail, case-insensitively, for the admin and for the login service alike."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from apps.users.models import User, UserManager


class EmailBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     email: str | None = None, **kwargs: Any) -> User | None:
        login = email or username or kwargs.get(User.USERNAME_FIELD)
        if not login or password is None:
            return None
        try:
            user = User.objects.get(email=UserManager.normalize_email(login))
        except User.DoesNotExist:
            # Hash anyway so a missing account takes as long to reject as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
