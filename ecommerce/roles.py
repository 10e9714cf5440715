"""Roles are part of the public contract and of the access token, so the kernel names them once."""

from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    CATALOG_STAFF = "catalog_staff"
    ORDER_STAFF = "order_staff"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.CATALOG_STAFF, Role.ORDER_STAFF, Role.ADMIN})
