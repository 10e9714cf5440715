"""Writes of the users context, one module per idea:

- ``accounts``: registration, and the admin's user update and deletion;
- ``sessions``: login, refresh-token rotation within families, logout, and the alarm when a token is reused;
- ``verification``: the e-mail verification link, its confirmation and its resending;
- ``passwords``: password change, reset by e-mailed link, and set by an operator;
- ``mail``: rendering the account e-mails and handing them to the workers;
- ``addresses``: a user's addresses and their one default;
- ``common``: the name/password checks, field messages and user row lock they share.

The names callers used before the split are re-exported here, so ``from apps.users import services`` keeps working.
Code that monkeypatches a helper must patch the module that looks the name up (e.g. ``services.common``).
"""

from apps.users.services.accounts import DUPLICATE_EMAIL, user_delete, user_register, user_update
from apps.users.services.addresses import (
    ADDRESS_REQUIRED_FIELDS,
    ADDRESS_TEXT_FIELDS,
    address_clean,
    address_create,
    address_delete,
    address_update,
    checkout_recipient,
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
from apps.users.services.sessions import (
    auth_login,
    auth_logout,
    auth_refresh,
    token_families_purge_expired,
    token_reuse_alert_send,
    token_reuse_alerts_send_due,
)
from apps.users.services.verification import (
    email_verification_confirm,
    email_verification_resend,
    verification_mail_send,
)

__all__ = [
    "ADDRESS_REQUIRED_FIELDS",
    "ADDRESS_TEXT_FIELDS",
    "BAD_RESET_LINK",
    "DUPLICATE_EMAIL",
    "NOT_NULL",
    "REQUIRED",
    "address_clean",
    "address_create",
    "address_delete",
    "address_update",
    "auth_login",
    "auth_logout",
    "auth_refresh",
    "checkout_recipient",
    "email_verification_confirm",
    "email_verification_resend",
    "password_change",
    "password_reset_confirm",
    "password_reset_mail_send",
    "password_reset_request",
    "password_set",
    "token_families_purge_expired",
    "token_reuse_alert_send",
    "token_reuse_alerts_send_due",
    "user_delete",
    "user_register",
    "user_update",
    "verification_mail_send",
]
