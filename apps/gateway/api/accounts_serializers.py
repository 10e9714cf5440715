"""Input and output shapes of the accounts API. Inputs name only what a client may set, so unknown or read-only
fields (``id``, ``role`` on /users/me, ``is_staff`` ...) are ignored rather than applied."""

from __future__ import annotations

from rest_framework import serializers

from apps.gateway.api.cart_serializers import MergedCartOutputSerializer
from ecommerce.roles import Role

ROLE_CHOICES = [role.value for role in Role]


# --- inputs -----------------------------------------------------------------------------------------------------

class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)
    name = serializers.CharField(max_length=150)


class LoginInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)
    new_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)


class PasswordResetInputSerializer(serializers.Serializer):
    # Any string is accepted: the answer is 202 whatever the address, so its format is not worth a 400.
    email = serializers.CharField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)


class VerifyEmailInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512, help_text="The token of the link mailed to the address.")


class MeUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)


class AdminUserUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    role = serializers.ChoiceField(choices=ROLE_CHOICES, required=False)
    is_active = serializers.BooleanField(required=False)


class UserSearchQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=254, default="")


class AddressInputSerializer(serializers.Serializer):
    """Lengths and the country code are checked by the users service, which owns those rules."""

    full_name = serializers.CharField()
    street = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField(required=False, allow_blank=True, default="")
    zip_code = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField(required=False, allow_blank=True, default="")
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
