"""Accounts API: registration, e-mail verification, JWT login/refresh/logout, passwords, the caller's profile and
addresses, and user administration. Each view validates input, calls one users-contract method and shapes the
answer; login and registration with ``X-Cart-Token`` then merge the guest cart (``guest_merge``). A login or
registration attempt takes its slot in the shared limits before any work is done, and a reset or
verification e-mail is sent only within its limits (``ecommerce/auth_limits.py``)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.gateway.api.accounts_serializers import (
    AddressInputSerializer,
    AddressOutputSerializer,
    AdminUserOutputSerializer,
    AdminUserUpdateInputSerializer,
    DetailOutputSerializer,
    LoginInputSerializer,
    LoginOutputSerializer,
    MeUpdateInputSerializer,
    PasswordChangeInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    RegisterOutputSerializer,
    TokenPairOutputSerializer,
    UserOutputSerializer,
    UserSearchQuerySerializer,
    VerifyEmailInputSerializer,
)
from apps.gateway.api.guest_merge import MERGE_CART_TOKEN_PARAMETER, guest_cart_merged_into
from apps.gateway.api.validation import validated, validated_query
from ecommerce.api.pagination import PAGE_PARAMETERS, page_params, paginated_body, paginated_serializer
from ecommerce.auth_limits import (
    LoginAttempt,
    password_reset_mail_allowed,
    registration_wait,
    verification_mail_wait,
)
from ecommerce.contracts.users import AddressChanges, AddressInput, UserChanges, users_service
from ecommerce.errors import NotFound
from ecommerce.permissions import IsAdmin, IsAuthenticatedPrincipal
from ecommerce.throttling import client_ip

ACCOUNTS = ["accounts"]
USERS = ["users"]
ADDRESSES = ["addresses"]

UserPage = paginated_serializer(AdminUserOutputSerializer, "PaginatedUserList")
AddressPage = paginated_serializer(AddressOutputSerializer, "PaginatedAddressList")



class PublicEndpoint(APIView):
    """Anyone may call it, and a stale access token sent along (as a client about to refresh has) is ignored."""

    authentication_classes = []
    permission_classes = [AllowAny]


class CallerEndpoint(APIView):
    """Acts on the caller's own account. An access token outlives its account by up to 15 minutes; once the account
    is gone, the caller is no longer anyone: 401, as for any token that does not name a user."""

    permission_classes = [IsAuthenticatedPrincipal]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, NotFound) and exc.extra.get("resource") == "user":
            exc = AuthenticationFailed("The account of this access token no longer exists.")
        return super().handle_exception(exc)


# --- auth -------------------------------------------------------------------------------------------------------

class RegisterView(PublicEndpoint):

    @extend_schema(tags=ACCOUNTS, summary="Create a customer account", request=RegisterInputSerializer,
                   responses={201: RegisterOutputSerializer}, parameters=[MERGE_CART_TOKEN_PARAMETER],
                   description="The new account is mailed a link to verify its address (see `/auth/verify-email`). "
                               "With `X-Cart-Token`, the guest cart becomes the new account's (`cart`). "
                               "Every attempt from one client with a well-formed body is counted, whatever its "
                               "outcome: past the limit, 429 with `Retry-After`.")
    def post(self, request: Request) -> Response:
        data = validated(RegisterInputSerializer, request.data)
        wait = registration_wait(client=client_ip(request))
        if wait is not None:
            raise Throttled(wait=wait, detail="Too many registrations from this client; try again later.")
        user = users_service.user_register(email=data["email"], password=data["password"], name=data["name"])
        body = {**UserOutputSerializer(user).data, **guest_cart_merged_into(request, user_id=user.id)}
        return Response(body, status=status.HTTP_201_CREATED)


class VerifyEmailView(PublicEndpoint):

    @extend_schema(tags=ACCOUNTS, summary="Verify the e-mail address with the mailed link",
                   request=VerifyEmailInputSerializer, responses={204: None},
                   description="A link that is malformed, altered, expired, or whose account is gone or has "
                               "changed its address answers 400 `validation_error` with `errors.token` saying which "
                               "(an expired link: ask for a new one). Verifying twice is harmless. The account's "
                               "older access tokens stop working (401): the client's next refresh brings one that "
                               "carries `email_verified`.")
    def post(self, request: Request) -> Response:
        data = validated(VerifyEmailInputSerializer, request.data)
        users_service.email_verification_confirm(token=data["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class VerifyEmailResendView(CallerEndpoint):

    @extend_schema(tags=ACCOUNTS, summary="Mail the caller a new verification link", request=None,
                   responses={202: DetailOutputSerializer},
                   description="202 once the e-mail is queued; an address already verified gets none (still 202, "
                               "the `detail` says so). Limited per account and per client: past either, 429 with "
                               "`Retry-After`.")
    def post(self, request: Request) -> Response:
        wait = verification_mail_wait(user_id=request.user.id, client=client_ip(request))
        if wait is not None:
            raise Throttled(wait=wait, detail="Too many verification e-mails asked for; try again later.")
        if users_service.email_verification_resend(user_id=request.user.id):
            detail = "A new verification link has been sent to your e-mail address."
        else:
            detail = "Your e-mail address is already verified."
        return Response({"detail": detail}, status=status.HTTP_202_ACCEPTED)


class LoginView(PublicEndpoint):
    problem_statuses = {"POST": [401]}

    @extend_schema(tags=ACCOUNTS, summary="Exchange e-mail and password for a token pair", request=LoginInputSerializer,
                   responses={200: LoginOutputSerializer}, parameters=[MERGE_CART_TOKEN_PARAMETER],
                   description="With `X-Cart-Token`, the guest cart merges into the user's (`cart`, with `notices` "
                               "for lines capped at the stock available). "
                               "Bad credentials answer 401 `invalid_credentials`. Repeated failures answer 429 with "
                               "`Retry-After`: for one account from one client, from one client, and (far higher) "
                               "for one account from anywhere. Successful logins are not counted, and a password "
                               "reset starts the account's counts afresh.")
    def post(self, request: Request) -> Response:
        data = validated(LoginInputSerializer, request.data)
        attempt = LoginAttempt(email=data["email"], client=client_ip(request))
        wait = attempt.begin()
        if wait is not None:
            raise Throttled(wait=wait, detail="Too many failed logins; try again later.")
        with attempt.checking():
            result = users_service.auth_login(email=data["email"], password=data["password"])
        merged = guest_cart_merged_into(request, user_id=result.user.id)
        return Response({**LoginOutputSerializer(result).data, **merged})


class RefreshView(PublicEndpoint):
    problem_statuses = {"POST": [401]}

    @extend_schema(tags=ACCOUNTS, summary="Rotate a refresh token", request=RefreshInputSerializer,
                   responses={200: TokenPairOutputSerializer},
                   description="The refresh token given is blacklisted; a used, blacklisted or expired one answers "
                               "401 `invalid_token`. The new access token carries the user's current role and "
                               "`email_verified`. Every token descended from one login is a family: a token that "
                               "was already replaced, used again (after a grace of "
                               "`ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS` for a client racing itself), ends the whole "
                               "family, revokes the user's access tokens (other sign-ins refresh as usual) and "
                               "e-mails the owner.")
    def post(self, request: Request) -> Response:
        data = validated(RefreshInputSerializer, request.data)
        pair = users_service.auth_refresh(refresh=data["refresh"])
        return Response(TokenPairOutputSerializer(pair).data)


class LogoutView(CallerEndpoint):

    @extend_schema(tags=ACCOUNTS, summary="Kill a refresh token", request=RefreshInputSerializer, responses={204: None},
                   description="Every refresh token of its family (descended from the same login) is dead "
                               "afterwards. A refresh token that is invalid or not the caller's answers 401 "
                               "`invalid_token`.")
    def post(self, request: Request) -> Response:
        data = validated(RefreshInputSerializer, request.data)
        users_service.auth_logout(user_id=request.user.id, refresh=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(CallerEndpoint):

    @extend_schema(tags=ACCOUNTS, summary="Change the caller's password", request=PasswordChangeInputSerializer,
                   responses={204: None},
                   description="Every refresh token of the user is blacklisted afterwards.")
    def post(self, request: Request) -> Response:
        data = validated(PasswordChangeInputSerializer, request.data)
        users_service.password_change(user_id=request.user.id, old_password=data["old_password"],
                                      new_password=data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicEndpoint):

    @extend_schema(tags=ACCOUNTS, summary="Ask for a password reset e-mail", request=PasswordResetInputSerializer,
                   responses={202: DetailOutputSerializer},
                   description="Always 202, whether or not an account has this address and whether or not the "
                               "limits on reset e-mails (per client, per account) let one be sent.")
    def post(self, request: Request) -> Response:
        data = validated(PasswordResetInputSerializer, request.data)
        if password_reset_mail_allowed(email=data["email"], client=client_ip(request)):
            users_service.password_reset_request(email=data["email"])
        return Response({"detail": "If an account has this e-mail address, a reset link has been sent to it."},
                        status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicEndpoint):

    @extend_schema(tags=ACCOUNTS, summary="Set a new password with a reset link",
                   request=PasswordResetConfirmInputSerializer, responses={204: None},
                   description="A bad or used link answers 400 with `errors.token`.")
    def post(self, request: Request) -> Response:
        data = validated(PasswordResetConfirmInputSerializer, request.data)
        users_service.password_reset_confirm(uid=data["uid"], token=data["token"], new_password=data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the caller -------------------------------------------------------------------------------------------------

class MeView(CallerEndpoint):

    @extend_schema(tags=USERS, summary="The caller's account", responses={200: UserOutputSerializer})
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(users_service.user_get(user_id=request.user.id)).data)

    @extend_schema(tags=USERS, summary="Rename the caller", request=MeUpdateInputSerializer,
                   responses={200: UserOutputSerializer},
                   description="Only `name` may change; any other field is ignored.")
    def patch(self, request: Request) -> Response:
        changes = validated(MeUpdateInputSerializer, request.data, partial=True)
        user = users_service.user_update(user_id=request.user.id, changes=UserChanges(**changes))
        return Response(UserOutputSerializer(user).data)


# --- administration ---------------------------------------------------------------------------------------------

class UserListView(APIView):
    permission_classes = [IsAdmin]
    problem_statuses = {"GET": [400, 404]}  # bad paging parameters; a page past the last

    @extend_schema(tags=USERS, summary="List users (admin)", operation_id="users_list", responses={200: UserPage},
                   parameters=[OpenApiParameter("search", str, description="Part of the e-mail or name."),
                               *PAGE_PARAMETERS])
    def get(self, request: Request) -> Response:
        page, page_size = page_params(request)
        search = validated_query(UserSearchQuerySerializer, request.query_params)["search"]
        users = users_service.user_list(search=search, page=page, page_size=page_size)
        return Response(paginated_body(request, page=page, page_size=page_size, count=users.count,
                                       results=AdminUserOutputSerializer(users.results, many=True).data))


class UserDetailView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(tags=USERS, summary="One user (admin)", responses={200: AdminUserOutputSerializer})
    def get(self, request: Request, user_id: int) -> Response:
        return Response(AdminUserOutputSerializer(users_service.user_get(user_id=user_id)).data)

    @extend_schema(tags=USERS, summary="Change a user's name, role or activity (admin)",
                   request=AdminUserUpdateInputSerializer, responses={200: AdminUserOutputSerializer},
                   description="A role change reaches the user's tokens at their next login or refresh; "
                               "deactivation blacklists their refresh tokens.")
    def patch(self, request: Request, user_id: int) -> Response:
        changes = validated(AdminUserUpdateInputSerializer, request.data, partial=True)
        user = users_service.user_update(user_id=user_id, changes=UserChanges(**changes))
        return Response(AdminUserOutputSerializer(user).data)

    @extend_schema(tags=USERS, summary="Delete a user (admin)", responses={204: None})
    def delete(self, request: Request, user_id: int) -> Response:
        users_service.user_delete(user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- addresses --------------------------------------------------------------------------------------------------

class AddressListView(CallerEndpoint):
    problem_statuses = {"GET": [400, 404]}  # bad paging parameters; a page past the last

    @extend_schema(tags=ADDRESSES, summary="The caller's addresses", operation_id="users_me_addresses_list",
                   responses={200: AddressPage},
                   parameters=PAGE_PARAMETERS)
    def get(self, request: Request) -> Response:
        page, page_size = page_params(request)
        addresses = users_service.address_list(user_id=request.user.id, page=page, page_size=page_size)
        return Response(paginated_body(request, page=page, page_size=page_size, count=addresses.count,
                                       results=AddressOutputSerializer(addresses.results, many=True).data))

    @extend_schema(tags=ADDRESSES, summary="Add an address", request=AddressInputSerializer,
                   responses={201: AddressOutputSerializer},
                   description="The first address becomes the default; making one the default unsets the other.")
    def post(self, request: Request) -> Response:
        data = validated(AddressInputSerializer, request.data)
        address = users_service.address_create(user_id=request.user.id, address=AddressInput(**data))
        return Response(AddressOutputSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetailView(CallerEndpoint):

    @extend_schema(tags=ADDRESSES, summary="One of the caller's addresses", responses={200: AddressOutputSerializer})
    def get(self, request: Request, address_id: int) -> Response:
        address = users_service.address_get(user_id=request.user.id, address_id=address_id)
        return Response(AddressOutputSerializer(address).data)

    @extend_schema(tags=ADDRESSES, summary="Replace an address", request=AddressInputSerializer,
                   responses={200: AddressOutputSerializer})
    def put(self, request: Request, address_id: int) -> Response:
        return self._update(request, address_id, partial=False)

    @extend_schema(tags=ADDRESSES, summary="Change some fields of an address", request=AddressInputSerializer,
                   responses={200: AddressOutputSerializer})
    def patch(self, request: Request, address_id: int) -> Response:
        return self._update(request, address_id, partial=True)

    def _update(self, request: Request, address_id: int, *, partial: bool) -> Response:
        changes = validated(AddressInputSerializer, request.data, partial=partial)
        address = users_service.address_update(user_id=request.user.id, address_id=address_id,
                                               changes=AddressChanges(**changes))
        return Response(AddressOutputSerializer(address).data)

    @extend_schema(tags=ADDRESSES, summary="Delete an address", responses={204: None})
    def delete(self, request: Request, address_id: int) -> Response:
        users_service.address_delete(user_id=request.user.id, address_id=address_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("auth/register", RegisterView.as_view(), name="auth-register"),
    path("auth/login", LoginView.as_view(), name="auth-login"),
    path("auth/refresh", RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", LogoutView.as_view(), name="auth-logout"),
    path("auth/verify-email", VerifyEmailView.as_view(), name="auth-verify-email"),
    path("auth/verify-email/resend", VerifyEmailResendView.as_view(), name="auth-verify-email-resend"),
    path("auth/password/change", PasswordChangeView.as_view(), name="auth-password-change"),
    path("auth/password/reset", PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password/reset/confirm", PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("users/me", MeView.as_view(), name="users-me"),
    path("users/me/addresses", AddressListView.as_view(), name="users-me-addresses"),
    path("users/me/addresses/<int:address_id>", AddressDetailView.as_view(), name="users-me-address"),
    path("users", UserListView.as_view(), name="users"),
    path("users/<int:user_id>", UserDetailView.as_view(), name="user-detail"),
]
