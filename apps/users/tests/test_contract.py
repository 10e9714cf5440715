"""Every method of the users contract, called through ``users_service`` both in-process and through the loopback
RPC path (serialisation, signing, internal endpoint), including the typed errors crossing the wire."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from apps.users.models import Address, User
from apps.users.services import sessions, verification
from ecommerce.contracts.common import Page
from ecommerce.contracts.users import (
    USER_EMAILS_MAX_IDS,
    AddressChanges,
    AddressDTO,
    AddressInput,
    CheckoutRecipient,
    LoginResult,
    PostalAddress,
    TokenPair,
    UserChanges,
    UserDTO,
    users_service,
)
from ecommerce.errors import InvalidCredentials, InvalidToken, NotFound, ValidationFailed
from ecommerce.roles import Role

PASSWORD = "Correct-Horse-Battery-9"
NEW_PASSWORD = "Another-Stable-Staple-7"
HOME = AddressInput(full_name="Ada Lovelace", street="1 Analytical Way", city="London", zip_code="N1 7AA",
                    country="gb")

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(rpc_mode) -> UserDTO:
    return users_service.user_register(email="Ada@Example.com", password=PASSWORD, name="Ada")


def test_user_register(rpc_mode):
    user = users_service.user_register(email="Ada@Example.com", password=PASSWORD, name="Ada")

    assert isinstance(user, UserDTO)
    assert (user.email, user.name, user.role, user.is_active, user.is_staff) == (
        "ada@example.com", "Ada", Role.CUSTOMER, True, False)
    with pytest.raises(ValidationFailed) as duplicate:
        users_service.user_register(email="ADA@example.com", password=PASSWORD, name="Ada")
    assert list(duplicate.value.errors) == ["email"]
    with pytest.raises(ValidationFailed) as weak:
        users_service.user_register(email="bob@example.com", password="123", name="Bob")
    assert list(weak.value.errors) == ["password"]
    assert User.objects.count() == 1


def test_auth_login(ada):
    result = users_service.auth_login(email="ada@example.com", password=PASSWORD)

    assert isinstance(result, LoginResult)
    assert result.user == users_service.user_get(user_id=ada.id)
    with pytest.raises(InvalidCredentials):
        users_service.auth_login(email="ada@example.com", password="wrong")


def test_auth_refresh(ada):
    login = users_service.auth_login(email="ada@example.com", password=PASSWORD)

    pair = users_service.auth_refresh(refresh=login.refresh)

    assert isinstance(pair, TokenPair)
    with pytest.raises(InvalidToken):
        users_service.auth_refresh(refresh=login.refresh)


def test_auth_refresh_of_a_replaced_token_ends_its_family(ada, settings):
    settings.ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS = 0
    login = users_service.auth_login(email="ada@example.com", password=PASSWORD)
    pair = users_service.auth_refresh(refresh=login.refresh)

    with pytest.raises(InvalidToken) as reused:
        users_service.auth_refresh(refresh=login.refresh)
    with pytest.raises(InvalidToken) as ended:
        users_service.auth_refresh(refresh=pair.refresh)

    assert reused.value.detail == sessions.REUSED
    assert ended.value.detail == sessions.ENDED


def test_auth_logout(ada):
    login = users_service.auth_login(email="ada@example.com", password=PASSWORD)

    assert users_service.auth_logout(user_id=ada.id, refresh=login.refresh) is None
    assert users_service.auth_logout(user_id=ada.id, refresh=login.refresh) is None
    with pytest.raises(InvalidToken):
        users_service.auth_refresh(refresh=login.refresh)
    with pytest.raises(InvalidToken):
        users_service.auth_logout(user_id=ada.id + 1, refresh=login.refresh)


def test_password_change(ada):
    with pytest.raises(ValidationFailed) as wrong:
        users_service.password_change(user_id=ada.id, old_password="wrong", new_password=NEW_PASSWORD)
    assert list(wrong.value.errors) == ["old_password"]

    users_service.password_change(user_id=ada.id, old_password=PASSWORD, new_password=NEW_PASSWORD)

    assert users_service.auth_login(email="ada@example.com", password=NEW_PASSWORD).user.id == ada.id
    with pytest.raises(NotFound):
        users_service.password_change(user_id=ada.id + 1, old_password=PASSWORD, new_password=NEW_PASSWORD)


def test_password_reset_request(ada):
    users_service.password_reset_request(email="nobody@example.com")
    assert mail.outbox == []

    users_service.password_reset_request(email="ada@example.com")

    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_password_reset_confirm(ada):
    user = User.objects.get(pk=ada.id)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)

    users_service.password_reset_confirm(uid=uid, token=token, new_password=NEW_PASSWORD)

    with pytest.raises(ValidationFailed) as reused:
        users_service.password_reset_confirm(uid=uid, token=token, new_password=NEW_PASSWORD)
    assert list(reused.value.errors) == ["token"]
    assert User.objects.get(pk=ada.id).check_password(NEW_PASSWORD)


def test_password_set(ada):
    users_service.password_set(user_id=ada.id, new_password=NEW_PASSWORD)

    assert users_service.auth_login(email="ada@example.com", password=NEW_PASSWORD).user.id == ada.id
    with pytest.raises(ValidationFailed) as weak:
        users_service.password_set(user_id=ada.id, new_password="123")
    assert list(weak.value.errors) == ["new_password"]
    with pytest.raises(NotFound):
        users_service.password_set(user_id=ada.id + 1, new_password=NEW_PASSWORD)


def test_email_verification_confirm(ada):
    token = verification.verification_token_make(User.objects.get(pk=ada.id))
    assert ada.email_verified is False

    assert users_service.email_verification_confirm(token=token) is None
    assert users_service.email_verification_confirm(token=token) is None  # twice is harmless

    assert users_service.user_get(user_id=ada.id).email_verified is True
    with pytest.raises(ValidationFailed) as bad:
        users_service.email_verification_confirm(token=token + "x")
    assert bad.value.errors == {"token": [verification.BAD_LINK]}


def test_email_verification_resend(ada):
    assert users_service.email_verification_resend(user_id=ada.id) is True

    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    users_service.email_verification_confirm(token=message.body.split("/verify-email/")[1].split()[0])
    assert users_service.email_verification_resend(user_id=ada.id) is False
    assert len(mail.outbox) == 1
    with pytest.raises(NotFound):
        users_service.email_verification_resend(user_id=ada.id + 1)


def test_user_get(ada):
    assert users_service.user_get(user_id=ada.id) == ada
    with pytest.raises(NotFound):
        users_service.user_get(user_id=ada.id + 1)


def test_user_emails_names_the_users_that_exist_in_one_call(ada):
    bob = users_service.user_register(email="bob@example.com", password=PASSWORD, name="Bob")

    emails = users_service.user_emails(user_ids=[ada.id, bob.id, bob.id + 100])

    assert emails == {ada.id: ada.email, bob.id: "bob@example.com"}
    assert users_service.user_emails(user_ids=[]) == {}
    with pytest.raises(ValidationFailed):
        users_service.user_emails(user_ids=list(range(1, USER_EMAILS_MAX_IDS + 2)))


def test_user_list(ada):
    users_service.user_register(email="bob@example.com", password=PASSWORD, name="Bob")

    page = users_service.user_list(search="ada", page=1, page_size=10)

    assert isinstance(page, Page)
    assert (page.count, [user.id for user in page.results]) == (1, [ada.id])
    assert users_service.user_list().count == 2
    with pytest.raises(ValidationFailed):
        users_service.user_list(page=0)


def test_user_update_applies_only_the_fields_set(ada):
    renamed = users_service.user_update(user_id=ada.id, changes=UserChanges(name="Countess"))
    promoted = users_service.user_update(user_id=ada.id, changes=UserChanges(role=Role.CATALOG_STAFF))

    assert (renamed.name, renamed.role) == ("Countess", Role.CUSTOMER)
    assert (promoted.name, promoted.role, promoted.is_staff) == ("Countess", Role.CATALOG_STAFF, True)
    with pytest.raises(ValidationFailed) as blank:
        users_service.user_update(user_id=ada.id, changes=UserChanges(name=""))
    assert list(blank.value.errors) == ["name"]
    with pytest.raises(NotFound):
        users_service.user_update(user_id=ada.id + 1, changes=UserChanges(is_active=False))


def test_user_delete(ada):
    users_service.user_delete(user_id=ada.id)

    assert not User.objects.filter(pk=ada.id).exists()
    with pytest.raises(NotFound):
        users_service.user_delete(user_id=ada.id)


def test_address_create(ada):
    address = users_service.address_create(user_id=ada.id, address=HOME)

    assert isinstance(address, AddressDTO)
    assert (address.user_id, address.country, address.is_default, address.state) == (ada.id, "GB", True, "")
    with pytest.raises(ValidationFailed) as bad_country:
        users_service.address_create(user_id=ada.id, address=HOME.model_copy(update={"country": "XX"}))
    assert list(bad_country.value.errors) == ["country"]
    assert Address.objects.count() == 1


def test_checkout_recipient_of_a_saved_address(ada):
    # given a saved address of Ada's, and another user's
    saved = users_service.address_create(user_id=ada.id, address=HOME)
    bob = users_service.user_register(email="bob@example.com", password=PASSWORD, name="Bob")
    bobs = users_service.address_create(user_id=bob.id, address=HOME.model_copy(update={"full_name": "Bob"}))

    # when checkout asks whom the order goes to
    recipient = users_service.checkout_recipient(user_id=ada.id, address_id=saved.id)

    # then it hears Ada's e-mail and her address's fields, in one call
    assert isinstance(recipient, CheckoutRecipient)
    assert recipient.email == "ada@example.com"
    assert recipient.address == PostalAddress(**saved.model_dump(include=set(PostalAddress.model_fields)))
    # and another user's address, an unknown one, or none at all is refused
    with pytest.raises(NotFound):
        users_service.checkout_recipient(user_id=ada.id, address_id=bobs.id)
    with pytest.raises(NotFound):
        users_service.checkout_recipient(user_id=ada.id, address_id=bobs.id + 1000)
    with pytest.raises(ValidationFailed) as neither:
        users_service.checkout_recipient(user_id=ada.id)
    assert list(neither.value.errors) == ["address_id"]


def test_checkout_recipient_of_an_address_given_inline_is_checked_and_not_saved(ada):
    # given an address typed at checkout, with a lower-case country and stray spaces
    typed = HOME.model_copy(update={"country": " gb ", "city": "  London "})

    # when it is checked for one order
    recipient = users_service.checkout_recipient(user_id=ada.id, address=typed)

    # then it is normalised as address_create would, and nothing is stored; a bad one names its fields
    assert (recipient.email, recipient.address.country, recipient.address.city) == ("ada@example.com", "GB", "London")
    with pytest.raises(ValidationFailed) as bad:
        users_service.checkout_recipient(user_id=ada.id,
                                         address=HOME.model_copy(update={"country": "XX", "street": " "}))
    assert set(bad.value.errors) == {"country", "street"}
    assert Address.objects.count() == 0


def test_checkout_recipient_of_an_address_given_inline_to_save_keeps_it_once(ada):
    # when an address given at checkout is to be saved, and then a bad one is
    recipient = users_service.checkout_recipient(user_id=ada.id, address=HOME, save=True)
    with pytest.raises(ValidationFailed) as bad:
        users_service.checkout_recipient(user_id=ada.id, address=HOME.model_copy(update={"zip_code": ""}), save=True)

    # then the good one is Ada's first (so default) address, as the order got it, and the bad one is not stored
    [stored] = users_service.address_list(user_id=ada.id).results
    assert (stored.street, stored.country, stored.is_default) == (HOME.street, "GB", True)
    assert recipient.address == PostalAddress(**stored.model_dump(include=set(PostalAddress.model_fields)))
    assert list(bad.value.errors) == ["zip_code"]
    # and the method is never retried on a lost answer, which would save the address twice
    assert users_service.methods["checkout_recipient"].idempotent is False


def test_address_list(ada):
    for _ in range(3):
        users_service.address_create(user_id=ada.id, address=HOME)

    page = users_service.address_list(user_id=ada.id, page=2, page_size=2)

    assert (page.count, len(page.results)) == (3, 1)
    assert users_service.address_list(user_id=ada.id + 1).count == 0


def test_address_get(ada):
    address = users_service.address_create(user_id=ada.id, address=HOME)

    assert users_service.address_get(user_id=ada.id, address_id=address.id) == address
    with pytest.raises(NotFound):
        users_service.address_get(user_id=ada.id + 1, address_id=address.id)


def test_address_update_applies_only_the_fields_set(ada):
    address = users_service.address_create(user_id=ada.id, address=HOME)

    updated = users_service.address_update(user_id=ada.id, address_id=address.id,
                                           changes=AddressChanges(city="Oxford"))

    assert (updated.city, updated.street, updated.is_default) == ("Oxford", HOME.street, True)
    with pytest.raises(ValidationFailed) as long_zip:
        users_service.address_update(user_id=ada.id, address_id=address.id, changes=AddressChanges(zip_code="9" * 30))
    assert list(long_zip.value.errors) == ["zip_code"]
    with pytest.raises(NotFound):
        users_service.address_update(user_id=ada.id + 1, address_id=address.id, changes=AddressChanges(city="X"))


def test_address_delete(ada):
    address = users_service.address_create(user_id=ada.id, address=HOME)

    users_service.address_delete(user_id=ada.id, address_id=address.id)

    assert not Address.objects.exists()
    with pytest.raises(NotFound):
        users_service.address_delete(user_id=ada.id, address_id=address.id)


def test_every_contract_method_is_covered_here():
    from ecommerce.contracts.users import UsersService

    test_names = [name for name in globals() if name.startswith("test_")]
    untested = [method for method in UsersService.__abstractmethods__
                if not any(name == f"test_{method}" or name.startswith(f"test_{method}_") for name in test_names)]
    assert untested == []
