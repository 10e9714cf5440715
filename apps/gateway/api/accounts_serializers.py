"""Input and output shapes of the accounts API. Inputs name only what a client may set, so unknown or read-only
fields (``id``, ``role`` on /users/me, ``is_staff`` ...) are ignored rather than applied."""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from apps.gateway.api.cart_serializers import MergedCartOutputSerializer
from apps.gateway.api.validation import COUNTRY_CODES, StrictInputSerializer
from ecommerce.roles import Role

ROLE_CHOICES = [role.value for role in Role]
# What the schema can state of Django's password validators (settings.AUTH_PASSWORD_VALIDATORS): the minimum length
# and "not entirely numeric". Common passwords and ones too like the account's e-mail or name are refused as well.
PASSWORD_MIN_LENGTH = 8
PASSWORD_RULES = (f"At least {PASSWORD_MIN_LENGTH} characters, not entirely digits, not a commonly used password and "
                  "not too similar to the e-mail address or name.")


def new_password_field() -> serializers.CharField:
    return serializers.CharField(
        write_only=True, trim_whitespace=False, min_length=PASSWORD_MIN_LENGTH, max_length=4096,
        validators=[RegexValidator(r"^[^\x00]*[^\d\x00][^\x00]*$",
                                   message="This password is entirely numeric, or holds null characters.")],
        help_text=PASSWORD_RULES)


# --- inputs -----------------------------------------------------------------------------------------------------

class RegisterInputSerializer(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    password = new_password_field()
    name = serializers.CharField(max_length=150)


class LoginInputSerializer(StrictInputSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)


class RefreshInputSerializer(StrictInputSerializer):
    refresh = serializers.CharField(max_length=4096)


class PasswordChangeInputSerializer(StrictInputSerializer):
    old_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)
    new_password = new_password_field()


class PasswordResetInputSerializer(StrictInputSerializer):
    # Any string is accepted: the answer is 202 whatever the address, so its format is not worth a 400.
    email = serializers.CharField(max_length=254)


class PasswordResetConfirmInputSerializer(StrictInputSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = new_password_field()


class VerifyEmailInputSerializer(StrictInputSerializer):
    token = serializers.CharField(max_length=512, help_text="The token of the link mailed to the address.")


class MeUpdateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=150, required=False)


class AdminUserUpdateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=150, required=False)
    role = serializers.ChoiceField(choices=ROLE_CHOICES, required=False)
    is_active = serializers.BooleanField(required=False)


class UserSearchQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=254, default="")


class PostalAddressInputSerializer(StrictInputSerializer):
    """The users service checks lengths and the country code again: it owns those rules; the schema states them."""

    full_name = serializers.CharField(max_length=150)
    street = serializers.CharField(max_length=255)
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    zip_code = serializers.CharField(max_length=20)
    country = serializers.ChoiceField(choices=COUNTRY_CODES, help_text="ISO 3166-1 alpha-2 code, upper case.")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class AddressInputSerializer(PostalAddressInputSerializer):
    # Left out, it keeps its value on PUT and PATCH (a replaced address stays the default); a new one is not default.
    is_default = serializers.BooleanField(required=False)


# --- outputs ----------------------------------------------------------------------------------------------------

class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    email_verified = serializers.BooleanField(help_text="The owner opened the verification link mailed to `email`.")
    date_joined = serializers.DateTimeField()


class AdminUserOutputSerializer(UserOutputSerializer):
    is_active = serializers.BooleanField()


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


MERGED_CART_HELP = "Only when `X-Cart-Token` was sent: the user's cart with the guest cart merged into it."


class LoginOutputSerializer(TokenPairOutputSerializer):
    user = UserOutputSerializer()
    cart = MergedCartOutputSerializer(required=False, help_text=MERGED_CART_HELP)


class RegisterOutputSerializer(UserOutputSerializer):
    cart = MergedCartOutputSerializer(required=False, help_text=MERGED_CART_HELP)


class DetailOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()


class AddressOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    street = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    zip_code = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code.")
    phone = serializers.CharField()
    is_default = serializers.BooleanField()
