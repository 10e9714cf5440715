"""The database router of a split deployment: a role migrates, reads and writes only the tables it owns.

Each role has exactly one database, so routing never picks another alias; what the router does is refuse. ``migrate``
creates only the role's tables (plus Django's framework tables and, outside the users role, the shadow user table),
and a query on any other model raises at once instead of failing later with "relation does not exist" or, worse,
succeeding against a table that should not be there. Ownership is defined once, in ``config.roles``."""

from __future__ import annotations

from typing import Any

from django.db import models

from config.roles import allows_table
from ecommerce import deployment


class ForeignTableAccess(RuntimeError):
    """A role touched a table owned by another bounded context: a programming error, never a user's."""


def _owning_model(model: type[models.Model]) -> type[models.Model]:
    # The auto-created table behind a many-to-many field (users_user_groups) belongs with the model declaring it.
    return model._meta.auto_created or model


class RoleRouter:
    @property
    def role(self) -> str:
        return deployment.process_role()

    def _guard(self, model: type[models.Model]) -> None:
        owner = _owning_model(model)
        if not allows_table(self.role, owner._meta.app_label, owner._meta.model_name):
            raise ForeignTableAccess(
                f"The {self.role} role does not own {owner._meta.label}; reach it through its contract."
            )

    def db_for_read(self, model: type[models.Model], **hints: Any) -> None:
        self._guard(model)
        return None

    def db_for_write(self, model: type[models.Model], **hints: Any) -> None:
        self._guard(model)
        return None

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> None:
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return allows_table(self.role, app_label, model_name)
