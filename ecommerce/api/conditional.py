"""JSON answers from bytes that were rendered (or cached) already, with a strong ``ETag``: a client that sends the
tag it holds in ``If-None-Match`` gets ``304 Not Modified`` and no body.

The tag is a digest of the exact body, so it changes whenever any byte of the answer does (a price, the stock, a
link) and never otherwise, whichever process rendered it. Answers that differ by who asks (staff see inactive
products) say so with ``Vary: Authorization``; ``no-cache`` lets clients and proxies keep a copy but makes them
revalidate it every time, which a 304 makes cheap."""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

JSON = "application/json"


def etag_of(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def if_none_match_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    # A weak comparison, as RFC 9110 asks for If-None-Match: W/"x" matches "x".
    return any(candidate.strip().removeprefix("W/") == etag for candidate in if_none_match.split(","))


def json_bytes_response(request: HttpRequest, body: bytes, *, status: int = 200) -> HttpResponse:
    etag = etag_of(body)
    if_none_match = request.headers.get("If-None-Match")
    if status == 200 and if_none_match and if_none_match_matches(if_none_match, etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=JSON, status=status)
    for name, value in validation_headers(etag):
        response[name] = value
    return response


def validation_headers(etag: str) -> tuple[tuple[str, str], ...]:
    return (("ETag", etag), ("Cache-Control", "no-cache"), ("Vary", "Authorization"))
