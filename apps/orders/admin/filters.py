"""A list filter by date range (from, until; either may be left open) for the admin's order list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Model, QuerySet
from django.http import HttpRequest


class DateRangeFilter(admin.FieldListFilter):
    """``?<field>__date__gte=YYYY-MM-DD&<field>__date__lte=YYYY-MM-DD``, shown as two date inputs. A date that does
    not parse sends staff back to the unfiltered list with the admin's own "invalid filter" note, never an error."""

    template = "admin/orders/date_range_filter.html"

    def __init__(self, field: Any, request: HttpRequest, params: dict[str, Any], model: type[Model],
                 model_admin: admin.ModelAdmin, field_path: str) -> None:
        self.since_parameter = f"{field_path}__date__gte"
        self.until_parameter = f"{field_path}__date__lte"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = f"{self.title} between"

    def expected_parameters(self) -> list[str]:
        return [self.since_parameter, self.until_parameter]

    def has_output(self) -> bool:
        return True

    def _chosen(self, parameter: str) -> str:
        value = self.used_parameters.get(parameter, "")
        return value[-1] if isinstance(value, list) else value

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        bounds = {}
        for parameter in self.expected_parameters():
            chosen = self._chosen(parameter)
            if chosen:
                try:
                    bounds[parameter] = date.fromisoformat(chosen)
                except ValueError as error:
                    raise IncorrectLookupParameters(error) from error
        return queryset.filter(**bounds)

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        # The search, the ordering and the other filters stay as they are when the dates are submitted.
        kept = [(name, value) for name, values in changelist.filter_params.items()
                if name not in self.expected_parameters() for value in values]
        yield {
            "since_parameter": self.since_parameter, "since": self._chosen(self.since_parameter),
            "until_parameter": self.until_parameter, "until": self._chosen(self.until_parameter),
            "kept_parameters": kept,
            "clear_url": changelist.get_query_string(remove=self.expected_parameters()),
            "selected": any(self._chosen(parameter) for parameter in self.expected_parameters()),
        }
