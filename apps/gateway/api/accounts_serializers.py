"""Input and output shapes of the accounts API. Inputs name only what a client may set, so unknown or read-only
fields (``id``, ``role`` on /users/me, ``is_staff`` ...) are ignored rather than applied."""

from __future__ import annotations

from rest_framework import serializers

from ecommerce.roles import Role

ROLE_CHOICES = [role.value for role in Role]


# --- inputs -----------------------------------------------------------------------------------------------------

class RegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)
    name = serializers.CharField(max_length=150)


class LoginInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class PasswordChangeInput(serializers.Serializer):
    old_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)
    new_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)


class PasswordResetInput(serializers.Serializer):
    # Any string is accepted: the answer is 202 whatever the address, so its format is not worth a 400.
    email = serializers.CharField(max_length=254)


class PasswordResetConfirmInput(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)


class MeUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)


class AdminUserUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    role = serializers.ChoiceField(choices=ROLE_CHOICES, required=False)
    is_active = serializers.BooleanField(required=False)


class UserSearchQuery(serializers.Serializer):
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

class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    date_joined = serializers.DateTimeField()


class AdminUserOutput(UserOutput):
    is_active = serializers.BooleanField()


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginOutput(TokenPairOutput):
    user = UserOutput()


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class AddressOutput(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    street = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    zip_code = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code.")
    phone = serializers.CharField()
    is_default = serializers.BooleanField()
