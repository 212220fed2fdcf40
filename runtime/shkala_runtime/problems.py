"""RFC 9457 problem details for every HTTP error of every service."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:shkala:problem:"


class Problem(Exception):
    """Raise anywhere in a request; becomes ``application/problem+json``."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type: str = "about:blank",
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.type = type if type == "about:blank" or ":" in type else TYPE_BASE + type
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        doc.update(self.extensions)
        return doc


def problem_response(
    problem: Problem, request: Request | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        problem.body(request.url.path if request else None),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(exc, request, headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "location": ".".join(str(p) for p in e.get("loc", ())),
                "reason": e.get("msg", ""),
                "value": _short(e.get("input")),
            }
            for e in exc.errors()
        ]
        return problem_response(
            Problem(
                422,
                "Request is not valid",
                f"{len(errors)} error(s)",
                type="validation",
                errors=errors[:100],
                total_errors=len(errors),
            ),
            request,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(
            Problem(exc.status_code, str(exc.detail)), request, dict(exc.headers or {})
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def _short(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value if not isinstance(value, str) or len(value) <= 200 else value[:200] + "…"
    return None


# ---------------------------------------------------------------- the OpenAPI document

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; extensions (e.g. `errors`) depend on `type`",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:shkala:problem:not-found"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    **PROBLEM_SCHEMA,
    "title": "ValidationProblem",
    "description": "422: every invalid field with its location, the reason and the value sent",
    "properties": {
        **PROBLEM_SCHEMA["properties"],
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "examples": ["body.filters.schools.0"]},
                    "reason": {"type": "string"},
                    "value": {},
                },
                "additionalProperties": True,
            },
        },
        "total_errors": {"type": "integer"},
    },
}
# What each problem status means when a route does not say more itself.
DEFAULT_PROBLEMS = {
    "400": "The body cannot be parsed (not UTF-8 JSON, a broken multipart form)",
    "401": "No bearer token, or one that is expired, forged or lacks a claim",
    "403": "The token's role or tenant may not do this, or not to the units the request names",
    "404": "Nothing with this id (or nothing the caller may see)",
    "409": "Conflicts with the current state (a stale version, a reused idempotency key)",
    "413": "The request body is larger than the configured limit",
    "422": "The request is not valid: every error with its location",
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


def document_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """Say in the OpenAPI document what every route can answer besides success.

    Applied once per app (``create_service_app``), so services only add what is particular
    to a route (``responses={404: {"description": ...}}``): an authenticated route answers
    401 and 403; one with a path parameter 404; a write 409, and 413 when it takes a body;
    one with parameters or a body 422, and
    one with a body 400 (it cannot be parsed). Every error answer is ``application/problem+json``.
    Idempotent: calling it twice changes nothing more.
    """
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", PROBLEM_SCHEMA)
    schemas.setdefault("ValidationProblem", VALIDATION_PROBLEM_SCHEMA)
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in WRITE_METHODS | {"get", "head", "options"}:
                continue
            responses: dict[str, Any] = op.setdefault("responses", {})
            wanted: set[str] = set()
            if op.get("security"):
                wanted |= {"401", "403"}
            if "{" in path:
                wanted.add("404")
            if method in WRITE_METHODS and op.get("security"):
                wanted.add("409")
                if "requestBody" in op:
                    wanted.add("413")
            if op.get("parameters") or "requestBody" in op:
                wanted.add("422")
            if "requestBody" in op:
                wanted.add("400")
            for status in wanted:
                responses.setdefault(status, {"description": DEFAULT_PROBLEMS[status]})
            for status, answer in responses.items():
                if status.isdigit() and int(status) >= 400:
                    _problem_content(status, answer)
            op["responses"] = dict(sorted(responses.items()))
    return spec


def _problem_content(status: str, answer: dict[str, Any]) -> None:
    ref = "ValidationProblem" if status == "422" else "Problem"
    content = answer.setdefault("content", {})
    generic = content.get("application/json")
    if generic is not None and "HTTPValidationError" in str(generic.get("schema", "")):
        del content["application/json"]  # FastAPI's default; our handler answers a problem
    if not content or PROBLEM_JSON in content:  # else the route documents its own body
        media = content.setdefault(PROBLEM_JSON, {})
        media.setdefault("schema", {"$ref": f"#/components/schemas/{ref}"})
    if status == "401":
        answer.setdefault("headers", {}).setdefault(
            "WWW-Authenticate", {"schema": {"type": "string"}, "description": "`Bearer`"}
        )
    if status == "422" and answer.get("description") == "Validation Error":
        answer["description"] = DEFAULT_PROBLEMS["422"]
