"""Migration operations for PostgreSQL-only database features. The project also runs on SQLite (zero-setup default,
fast tests), so these indexes and the stored search document are kept out of the models' state: SQLite rebuilds a
table with every index in the model state whenever it alters the table, and it has neither GIN indexes nor
tsvectors. They exist in the database on PostgreSQL only, created and dropped by these operations; the search code
checks the vendor and uses them only there."""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import Operation
from django.db.models import Index


class PostgresOnlyIndex(Operation):
    """Create ``index`` on ``model_name`` when the connection is PostgreSQL; the migration state is left alone."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, index: Index) -> None:
        self.model_name = model_name
        self.index = index

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__qualname__, [], {"model_name": self.model_name, "index": self.index}

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_index(to_state.apps.get_model(app_label, self.model_name), self.index)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_index(from_state.apps.get_model(app_label, self.model_name), self.index)

    def describe(self) -> str:
        return f"Create PostgreSQL-only index {self.index.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{self.index.name.lower()}"


class PostgresOnlySQL(Operation):
    """Run ``sql`` (and ``reverse_sql`` backwards) when the connection is PostgreSQL; the migration state is left
    alone, so the models never see what it creates."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, sql: str, reverse_sql: str, description: str) -> None:
        self.sql = sql
        self.reverse_sql = reverse_sql
        self.description = description

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__qualname__, [], {
            "sql": self.sql, "reverse_sql": self.reverse_sql, "description": self.description,
        }

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(self.sql)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(self.reverse_sql)

    def describe(self) -> str:
        return f"PostgreSQL only: {self.description}"
