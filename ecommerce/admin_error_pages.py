"""Errors inside the Django admin are HTML pages in the admin's look, never the API's problem details: staff read
them in a browser. ``ecommerce.api.problems``'s handlers ask :func:`is_admin_request` first; every other address
keeps problem details. The admin is served under ``/admin/`` in the monolith and in every domain role; the gateway
serves none, so there ``/admin/`` is an API address like any other."""

from __future__ import annotations

from django.apps import apps as django_apps
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from ecommerce.admin_titles import admin_titles

ADMIN_PATH_PREFIX = "/admin/"
_PAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Permission denied", "You may not do this. Ask an administrator if your work needs it."),
    404: ("Page not found", "We're sorry, but the requested page could not be found."),
    413: ("Request too large", "What was sent is larger than the admin accepts; please send less at once."),
    429: ("Sign-in locked", "Too many failed sign-ins. Please wait before trying again."),
    500: ("Server error", "Something went wrong on our side. It has been logged; please try again later."),
}


def is_admin_request(request: HttpRequest) -> bool:
    """Only where an admin is served: the gateway serves none, and an address under /admin/ there is just missing."""
    return request.path.startswith(ADMIN_PATH_PREFIX) and django_apps.is_installed("django.contrib.admin")


def admin_error_page(request: HttpRequest, status: int, detail: str | None = None) -> HttpResponse:
    """Renders without the database or the admin site's context, so it works even when those are what failed.
    ``detail`` replaces the status's general sentence when the caller knows more."""
    title, general_detail = _PAGES[status]
    detail = detail or general_detail
    titles = admin_titles()
    body = render_to_string("admin/error_page.html", {"status": status, "title": title, "detail": detail,
                                                      "site_header": titles.header, "site_title": titles.title})
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
