"""What stands before the routes: the bearer token, the body limits, and JSON errors for everything.

`Guard` is plain ASGI middleware, so that it answers before a body is parsed: a /v1 call without the
token gets 401; a body over the size limit 413 (read no further); a POST body that is not UTF-8 or
not JSON 400; a body of another content type 415. `install_error_handlers` turns validation errors,
library `InputError`s and anything unexpected into ``{"error": {"code", "message"}}`` answers, so no
caller ever sees a traceback.
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from detector.errors import InputError, ModelFormatError
from detector.serve.config import Limits

__all__ = ["Guard", "ApiError", "error_response", "install_error_handlers"]

log = logging.getLogger("uvicorn.error")  # logged as uvicorn logs
BODY_METHODS = ("POST", "PUT", "PATCH")
STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                408: "timeout", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
                422: "invalid_request", 503: "not_ready"}


class ApiError(Exception):
    """An error a route answers with: its HTTP status and a message saying what to do."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    """The JSON body of every error: ``{"error": {"code": ..., "message": ...}}``."""
    code = STATUS_CODES.get(status, "internal_error" if status >= 500 else "error")
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class Guard:
    """ASGI middleware: token on /v1, body size, UTF-8 and JSON, before any route runs."""

    def __init__(self, app, *, token: str | None, limits: Limits):
        self.app = app
        self.token = token
        self.limits = limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refusal = self._refuse_caller(scope)
        if refusal is None and scope["method"] in BODY_METHODS:
            body, refusal = await self._read_body(scope, receive)
            if refusal is None:
                receive = _replay(body)
        if refusal is not None:
            return await refusal(scope, receive, send)
        return await self.app(scope, receive, send)

    def _refuse_caller(self, scope) -> JSONResponse | None:
        if self.token is None or not scope["path"].startswith("/v1/"):
            return None
        given = _header(scope, b"authorization")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token.encode()):
            return None
        message = "missing bearer token" if not given else "wrong bearer token"
        return error_response(401, f"{message}: send the header 'Authorization: Bearer <token>'",
                              headers={"WWW-Authenticate": "Bearer"})

    async def _read_body(self, scope, receive) -> tuple[bytes, JSONResponse | None]:
        limit = self.limits.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            return b"", _too_large(int(declared), limit)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return b"", _too_large(size, limit)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        return body, _check_json(body, _header(scope, b"content-type"))


def _check_json(body: bytes, content_type: str) -> JSONResponse | None:
    """A 415 for another content type, a 400 for a body that is not UTF-8 or not JSON, else None."""
    media = content_type.split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        return error_response(415, f"the body is {media}, not JSON: send it with 'Content-Type: application/json'")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return error_response(400, f"the body is not UTF-8 (undecodable byte at offset {error.start}): encode it as UTF-8")
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return error_response(400, f"the body is not valid JSON ({error.msg}: line {error.lineno}, column {error.colno})")
    return None


def _too_large(size: int, limit: int) -> JSONResponse:
    return error_response(
        413, f"the body has {size:,} bytes or more, over the limit of {limit:,}: send fewer or shorter articles "
             "per request (the server's --max-body-bytes)",
    )


def _header(scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def _replay(body: bytes):
    """A `receive` that hands the body already read to the route."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def install_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error": {"code", "message"}}``: 4xx for the caller's, 500 (logged) for ours."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError):
        return error_response(error.status, error.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        return error_response(422, "; ".join(_describe(problem) for problem in error.errors()[:5]))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        return error_response(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(InputError)
    async def input_error(request: Request, error: InputError):
        return error_response(422, str(error))

    @app.exception_handler(ModelFormatError)
    async def model_error(request: Request, error: ModelFormatError):
        return error_response(503, str(error))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(error).__name__}): the server log has the details")


def _describe(problem: dict) -> str:
    """One validation problem as 'articles[0].text: Input should be a valid string'."""
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem.get("loc", ())[1:])
    return f"{where.lstrip('.') or 'body'}: {problem.get('msg', 'invalid')}"
