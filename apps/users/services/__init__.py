"""Writes of the users context, one module per idea:

- ``accounts``: registration, login, token refresh/logout, and the admin's user update and deletion;
- ``passwords``: password change, reset by e-mailed link, and set by an operator;
- ``addresses``: a user's addresses and their one default;
- ``common``: the name/password checks, field messages and user row lock they share.

The names callers used before the split are re-exported here, so ``from apps.users import services`` keeps working.
Code that monkeypatches a helper must patch the module that looks the name up (e.g. ``services.common``).
"""

from apps.users.services.accounts import (
    DUPLICATE_EMAIL,
    auth_login,
    auth_logout,
    auth_refresh,
    user_delete,
    user_register,
    user_update,
)
from apps.users.services.addresses import (
    ADDRESS_REQUIRED_FIELDS,
    ADDRESS_TEXT_FIELDS,
    address_create,
    address_delete,
    address_update,
)
from apps.users.services.common import NOT_NULL, REQUIRED
from apps.users.services.passwords import (
    BAD_RESET_LINK,
    password_change,
    password_reset_confirm,
    password_reset_mail_send,
    password_reset_request,
    password_set,
)

__all__ = [
    "ADDRESS_REQUIRED_FIELDS",
    "ADDRESS_TEXT_FIELDS",
    "BAD_RESET_LINK",
    "DUPLICATE_EMAIL",
    "NOT_NULL",
    "REQUIRED",
    "address_create",
    "address_delete",
    "address_update",
    "auth_login",
    "auth_logout",
    "auth_refresh",
    "password_change",
    "password_reset_confirm",
    "password_reset_mail_send",
    "password_reset_request",
    "password_set",
    "user_delete",
    "user_register",
    "user_update",
]
