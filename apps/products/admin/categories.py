"""Categories in the admin, shown as a tree (depth first, children indented under their parent) and held to the
API's rules, notably that the tree never gets a cycle."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.http import HttpRequest

from apps.products import selectors
from apps.products.models import Category
from apps.products.services.categories import category_errors

TREE_INDENT = "\u2003"  # an em space per level: indentation that survives HTML's whitespace collapsing


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("name", "slug", "description", "parent")

    def clean(self) -> dict:
        cleaned = super().clean()
        parent = cleaned.get("parent")
        errors, _ = category_errors(
            name=cleaned.get("name", self.instance.name), slug=None, parent_id=parent.pk if parent else None,
            category_id=self.instance.pk, description=cleaned.get("description", ""),
        )
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return cleaned


class CategoryTreeChangeList(ChangeList):
    """Lists categories in tree order unless a column is chosen for sorting. (The tree position is an annotation of
    the list's queryset, which the ``ordering`` option cannot name: it also orders the category menus of forms.)"""

    def get_ordering(self, request: HttpRequest, queryset: QuerySet[Category]) -> list[str]:
        if ORDER_VAR in self.params:
            return super().get_ordering(request, queryset)
        return ["tree_position", "pk"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ("tree_name", "slug", "parent", "product_count")
    search_fields = ("name", "slug")
    list_select_related = ("parent",)
    prepopulated_fields = {"slug": ("name",)}

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CategoryTreeChangeList

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        tree = selectors.category_tree()
        position = Case(*(When(pk=category_id, then=Value(index)) for index, (category_id, _) in enumerate(tree)),
                        default=Value(len(tree)), output_field=IntegerField())
        depth = Case(*(When(pk=category_id, then=Value(depth)) for category_id, depth in tree if depth),
                     default=Value(0), output_field=IntegerField())
        return super().get_queryset(request).annotate(tree_position=position, tree_depth=depth,
                                                      products_count=Count("products"))

    @admin.display(description="Category", ordering="tree_position")
    def tree_name(self, category: Category) -> str:
        depth = category.tree_depth
        return f"{TREE_INDENT * 2 * depth}{'└ ' if depth else ''}{category.name}"

    @admin.display(description="Products", ordering="products_count")
    def product_count(self, category: Category) -> int:
        return category.products_count
