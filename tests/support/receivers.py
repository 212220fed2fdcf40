"""Local HTTP receivers for tests: an OTLP/HTTP trace collector and a webhook endpoint."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    attributes: dict[str, Any]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _Server:
    server: ThreadingHTTPServer
    items: list[Any] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def _serve(handle_body: Any, status: int = 200) -> _Server:
    holder: list[_Server] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            handle_body(holder[0], self.path, dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

    srv = _Server(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    holder.append(srv)
    threading.Thread(target=srv.server.serve_forever, daemon=True).start()
    return srv


def otlp_collector() -> _Server:
    """Collects spans sent by OTLP/HTTP (protobuf) to ``/v1/traces``."""

    def handle(srv: _Server, path: str, headers: dict[str, str], body: bytes) -> None:
        req = ExportTraceServiceRequest()
        req.ParseFromString(body)
        for rs in req.resource_spans:
            res = {a.key: _value(a.value) for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    srv.items.append(
                        Span(
                            s.trace_id.hex(),
                            s.span_id.hex(),
                            s.parent_span_id.hex(),
                            s.name,
                            str(res.get("service.name", "")),
                            {a.key: _value(a.value) for a in s.attributes},
                        )
                    )

    return _serve(handle)


def webhook_receiver() -> _Server:
    def handle(srv: _Server, path: str, headers: dict[str, str], body: bytes) -> None:
        srv.items.append(Received(path, {k.lower(): v for k, v in headers.items()}, body))

    return _serve(handle)
