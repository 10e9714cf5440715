"""The floor's only URL, the same path as the shop's product list."""

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

PAGE = Path(settings.FLOOR_PAGE_PATH).read_bytes()


def product_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE, content_type="application/json")


urlpatterns = [path("api/v1/products", product_page)]
