"""The users contract served in-process: a thin adapter from contract calls to services and selectors that turns
models into DTOs, so no model ever leaves this app."""

from __future__ import annotations

from apps.users import selectors, services
from apps.users.models import Address, User
from ecommerce.contracts.common import Page
from ecommerce.contracts.users import (
    AddressChanges,
    AddressDTO,
    AddressInput,
    CheckoutRecipient,
    LoginResult,
    PostalAddress,
    TokenPair,
    UserChanges,
    UserDTO,
    UsersService,
)


def user_dto(user: User) -> UserDTO:
    return UserDTO(id=user.pk, email=user.email, name=user.name, role=user.role, is_active=user.is_active,
                   is_staff=user.is_staff, email_verified=user.email_verified, date_joined=user.date_joined)


def address_dto(address: Address) -> AddressDTO:
    return AddressDTO(id=address.pk, user_id=address.user_id, full_name=address.full_name, street=address.street,
                      city=address.city, state=address.state, zip_code=address.zip_code, country=address.country,
                      phone=address.phone, is_default=address.is_default)


class LocalUsersService(UsersService):
    # --- accounts and tokens ---
    def user_register(self, *, email: str, password: str, name: str) -> UserDTO:
        return user_dto(services.user_register(email=email, password=password, name=name))

    def auth_login(self, *, email: str, password: str) -> LoginResult:
        user, issued = services.auth_login(email=email, password=password)
        return LoginResult(access=issued.access, refresh=issued.refresh, user=user_dto(user))

    def auth_refresh(self, *, refresh: str) -> TokenPair:
        issued = services.auth_refresh(refresh=refresh)
        return TokenPair(access=issued.access, refresh=issued.refresh)

    def auth_logout(self, *, user_id: int, refresh: str) -> None:
        services.auth_logout(user_id=user_id, refresh=refresh)

    def password_change(self, *, user_id: int, old_password: str, new_password: str) -> None:
        services.password_change(user_id=user_id, old_password=old_password, new_password=new_password)

    def password_reset_request(self, *, email: str) -> None:
        services.password_reset_request(email=email)

    def password_reset_confirm(self, *, uid: str, token: str, new_password: str) -> None:
        services.password_reset_confirm(uid=uid, token=token, new_password=new_password)

    def password_set(self, *, user_id: int, new_password: str) -> None:
        services.password_set(user_id=user_id, new_password=new_password)

    def email_verification_confirm(self, *, token: str) -> None:
        services.email_verification_confirm(token=token)

    def email_verification_resend(self, *, user_id: int) -> bool:
        return services.email_verification_resend(user_id=user_id)

    # --- users ---
    def user_get(self, *, user_id: int) -> UserDTO:
        return user_dto(selectors.user_get(user_id=user_id))

    def user_emails(self, *, user_ids: list[int]) -> dict[int, str]:
        return selectors.user_emails(user_ids=user_ids)

    def user_list(self, *, search: str = "", page: int = 1, page_size: int = 20) -> Page[UserDTO]:
        count, users = selectors.user_list(search=search, page=page, page_size=page_size)
        return Page[UserDTO](count=count, results=[user_dto(user) for user in users])

    def user_update(self, *, user_id: int, changes: UserChanges) -> UserDTO:
        applied = {field: getattr(changes, field) for field in changes.model_fields_set}
        return user_dto(services.user_update(user_id=user_id, changes=applied))

    def user_delete(self, *, user_id: int) -> None:
        services.user_delete(user_id=user_id)

    # --- addresses ---
    def address_list(self, *, user_id: int, page: int = 1, page_size: int = 20) -> Page[AddressDTO]:
        count, addresses = selectors.address_list(user_id=user_id, page=page, page_size=page_size)
        return Page[AddressDTO](count=count, results=[address_dto(address) for address in addresses])

    def address_get(self, *, user_id: int, address_id: int) -> AddressDTO:
        return address_dto(selectors.address_get(user_id=user_id, address_id=address_id))

    def address_create(self, *, user_id: int, address: AddressInput) -> AddressDTO:
        return address_dto(services.address_create(user_id=user_id, **address.model_dump()))

    def checkout_recipient(self, *, user_id: int, address_id: int | None = None, address: AddressInput | None = None,
                           save: bool = False) -> CheckoutRecipient:
        user, shipping = services.checkout_recipient(
            user_id=user_id, address_id=address_id, address=address.model_dump() if address else None, save=save)
        return CheckoutRecipient(email=user.email, address=PostalAddress(**shipping))

    def address_update(self, *, user_id: int, address_id: int, changes: AddressChanges) -> AddressDTO:
        applied = {field: getattr(changes, field) for field in changes.model_fields_set}
        return address_dto(services.address_update(user_id=user_id, address_id=address_id, changes=applied))

    def address_delete(self, *, user_id: int, address_id: int) -> None:
        services.address_delete(user_id=user_id, address_id=address_id)
