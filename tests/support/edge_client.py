"""An API client whose requests meet the WSGI edge first, as every request to a served process does
(``config/wsgi.py``): anonymous catalog reads the views served a moment ago are answered by the edge, everything else
by Django, so every test that reads the catalog anonymously holds both paths to the same expectations."""

from __future__ import annotations

from typing import Any

from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.test.client import ClientHandler
from rest_framework.test import APIClient, ForceAuthClientHandler

from apps.gateway.edge import CatalogEdge


class _NoApplication:
    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise AssertionError("the test client answers through Django's handler, not a WSGI application")


class _EdgeFirst:
    """Wraps a test client's handler: the edge answers what it can, the handler the rest."""

    def __init__(self, handler: ClientHandler) -> None:
        self.handler = handler
        self.edge = CatalogEdge(_NoApplication())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handler, name)

    def __call__(self, environ: dict[str, Any]) -> HttpResponse:
        forced = isinstance(self.handler, ForceAuthClientHandler) and self.handler._force_user is not None
        answer = None if forced else self.edge.answer(environ)
        if answer is None:
            return self.handler(environ)
        response = HttpResponse(answer.body, status=answer.status)
        del response["Content-Type"]
        for name, value in answer.headers:
            response[name] = value
        response.wsgi_request = WSGIRequest(environ)
        response.answered_by_edge = True
        return response


class EdgeAPIClient(APIClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handler = _EdgeFirst(self.handler)
