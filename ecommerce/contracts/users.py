"""Users context contract: accounts, authentication tokens and addresses."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime

from ecommerce.contracts.common import DTO, Page
from ecommerce.roles import Role
from ecommerce.rpc import Service, ServiceDelegator, rpc_method


class UserDTO(DTO):
    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    is_staff: bool
    # Defaulted so that a gateway already updated still reads the answers of a users role that is not yet.
    email_verified: bool = False
    date_joined: datetime


class UserChanges(DTO):
    """Fields an admin may change; only the fields that were set are applied."""

    name: str | None = None
    role: Role | None = None
    is_active: bool | None = None


class TokenPair(DTO):
    access: str
    refresh: str


class LoginResult(DTO):
    access: str
    refresh: str
    user: UserDTO


class AddressDTO(DTO):
    id: int
    user_id: int
    full_name: str
    street: str
    city: str
    state: str
    zip_code: str
    country: str
    phone: str
    is_default: bool


class AddressInput(DTO):
    full_name: str
    street: str
    city: str
    state: str = ""
    zip_code: str
    country: str
    phone: str = ""
    is_default: bool = False


class PostalAddress(DTO):
    """Where a parcel goes: an address's fields, checked and normalised, without its id or default flag."""

    full_name: str
    street: str
    city: str
    state: str
    zip_code: str
    country: str
    phone: str


class CheckoutRecipient(DTO):
    """Whom an order goes to: the customer's e-mail and the address it ships to."""

    email: str
    address: PostalAddress


class AddressChanges(DTO):
    """A partial address update; only the fields that were set are applied."""

    full_name: str | None = None
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None
    phone: str | None = None
    is_default: bool | None = None


# One look-up of e-mails covers at most this many users: a caller with more asks in batches.
USER_EMAILS_MAX_IDS = 1000


class UsersService(Service):
    service_name = "users"
    local_implementation = "apps.users.rpc.LocalUsersService"

    # --- accounts and tokens ---
    @rpc_method(idempotent=False)
    @abstractmethod
    def user_register(self, *, email: str, password: str, name: str) -> UserDTO: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def auth_login(self, *, email: str, password: str) -> LoginResult: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def auth_refresh(self, *, refresh: str) -> TokenPair: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def auth_logout(self, *, user_id: int, refresh: str) -> None: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def password_change(self, *, user_id: int, old_password: str, new_password: str) -> None: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def password_reset_request(self, *, email: str) -> None: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def password_reset_confirm(self, *, uid: str, token: str, new_password: str) -> None: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def password_set(self, *, user_id: int, new_password: str) -> None:
        """An operator sets a user's password without the old one (demo data, support): never exposed to the public
        API. The password validators apply and every token of the user ends."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def email_verification_confirm(self, *, token: str) -> None:
        """Marks the address of the link's account verified. A bad, altered or expired link, or one whose account is
        gone or changed address: ``ValidationFailed`` on ``token``. Verifying twice changes nothing."""

    @rpc_method(idempotent=False)
    @abstractmethod
    def email_verification_resend(self, *, user_id: int) -> bool:
        """Queues another verification e-mail; False when the address is already verified (nothing is sent)."""

    # --- users ---
    @rpc_method(idempotent=True)
    @abstractmethod
    def user_get(self, *, user_id: int) -> UserDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def user_list(self, *, search: str = "", page: int = 1, page_size: int = 20) -> Page[UserDTO]: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def user_emails(self, *, user_ids: list[int]) -> dict[int, str]:
        """The e-mail of each of these users (at most ``USER_EMAILS_MAX_IDS`` per call, else ValidationFailed);
        an id without a user is left out."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def user_update(self, *, user_id: int, changes: UserChanges) -> UserDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def user_delete(self, *, user_id: int) -> None: ...

    # --- addresses (always scoped to their owner: another user's address is NotFound) ---
    @rpc_method(idempotent=True)
    @abstractmethod
    def address_list(self, *, user_id: int, page: int = 1, page_size: int = 20) -> Page[AddressDTO]: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def address_get(self, *, user_id: int, address_id: int) -> AddressDTO: ...

    @rpc_method(idempotent=False)
    @abstractmethod
    def address_create(self, *, user_id: int, address: AddressInput) -> AddressDTO: ...

    # Not retried: with ``save`` a repeated call would save the address twice.
    @rpc_method(idempotent=False)
    @abstractmethod
    def checkout_recipient(self, *, user_id: int, address_id: int | None = None, address: AddressInput | None = None,
                           save: bool = False) -> CheckoutRecipient:
        """What a checkout needs of the users context, in one call: the user's e-mail and the shipping address,
        either the saved ``address_id`` (another user's or an unknown one is NotFound) or ``address`` checked and
        normalised as ``address_create`` would (ValidationFailed naming its fields), added to the user's addresses
        when ``save``. ``address`` wins when both are given; neither is ValidationFailed on ``address_id``."""

    @rpc_method(idempotent=True)
    @abstractmethod
    def address_update(self, *, user_id: int, address_id: int, changes: AddressChanges) -> AddressDTO: ...

    @rpc_method(idempotent=True)
    @abstractmethod
    def address_delete(self, *, user_id: int, address_id: int) -> None: ...


users_service: UsersService = ServiceDelegator(UsersService)  # type: ignore[assignment]
