"""Gateway authentication: an access token is verified by signature and expiry alone, without a database or
network call, and yields a ``Principal`` carrying the user's id and role. Only the users context reads the user
tables; everyone else trusts the token for at most its 15-minute life."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token

from ecommerce.roles import STAFF_ROLES, Role


@dataclass(frozen=True)
class Principal:
    id: int
    role: Role

    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self) -> int:
        return self.id

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def has_role(self, *roles: Role) -> bool:
        return self.role == Role.ADMIN or self.role in roles

    def __str__(self) -> str:
        return f"user:{self.id}"


class StatelessJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token) -> Principal:
        try:
            return Principal(id=int(validated_token["user_id"]), role=Role(validated_token["role"]))
        except (KeyError, ValueError, TypeError) as error:
            raise InvalidToken("Token carries no valid user.") from error

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
