"""Generate the committed JSON Schemas and the AsyncAPI 3.0 document from the models.

Run ``uv run python -m shkala_contracts.generate`` after changing a model; a test fails when
the committed files drift from what this produces.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shkala_contracts.base import Event
from shkala_contracts.catalog import EVENT_TYPES
from shkala_contracts.envelope import SCHEMA_URI
from shkala_contracts.topics import all_topics

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schemas"
ASYNCAPI_PATH = ROOT / "asyncapi.json"

_HEADER_DOCS = {
    "ce_id": "CloudEvents id (unique per event; a redelivery carries the same id)",
    "ce_source": "CloudEvents source: the producing service, e.g. /shkala/ingest",
    "ce_type": "CloudEvents type, e.g. ru.shkala.fact.assessment_result.v1",
    "ce_specversion": "Always 1.0",
    "ce_time": "RFC 3339 time the event was produced",
    "ce_subject": "The originator id the event belongs to",
    "ce_dataschema": "urn:shkala:schema:<type>",
    "content-type": "application/json",
    "ce_region": "Tenant: region id",
    "ce_municipality": "Tenant: municipality id, when the event belongs to one",
    "ce_school": "Tenant: school id, when the event belongs to one",
    "ce_originatorid": "The stream (fact natural key or aggregate) the event belongs to",
    "ce_originatorversion": "Position of the event in its originator's stream, from 1",
    "traceparent": "W3C trace context",
    "tracestate": "W3C trace context (vendor part)",
}
_REQUIRED_HEADERS = [
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_specversion",
    "ce_time",
    "ce_subject",
    "ce_region",
    "ce_originatorid",
    "ce_originatorversion",
    "content-type",
]


def event_schema(cls: type[Event]) -> dict[str, Any]:
    schema = cls.model_json_schema(mode="serialization")
    schema["$id"] = SCHEMA_URI.format(type=cls.event_type)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["x-event-type"] = cls.event_type
    schema["x-topic"] = cls.topic
    if key := getattr(cls, "key_fields", None):
        schema["x-natural-key"] = list(key)
    return schema


def json_schemas() -> dict[str, dict[str, Any]]:
    return {f"{t}.json": event_schema(c) for t, c in EVENT_TYPES.items()}


def asyncapi() -> dict[str, Any]:
    components_schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    by_topic: dict[str, list[str]] = {}
    for event_type, cls in EVENT_TYPES.items():
        schema = cls.model_json_schema(
            mode="serialization", ref_template="#/components/schemas/{model}"
        )
        components_schemas.update(schema.pop("$defs", {}))
        components_schemas[cls.__name__] = schema
        messages[cls.__name__] = {
            "name": event_type,
            "title": cls.__name__,
            "summary": ((cls.__doc__ or "").strip().splitlines() or [cls.__name__])[0],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventsKafkaHeaders"},
            "payload": {"$ref": f"#/components/schemas/{cls.__name__}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "school id"}}},
            **({"x-natural-key": list(k)} if (k := getattr(cls, "key_fields", None)) else {}),
        }
        by_topic.setdefault(cls.topic, []).append(cls.__name__)
    components_schemas["CloudEventsKafkaHeaders"] = {
        "type": "object",
        "required": _REQUIRED_HEADERS,
        "properties": {h: {"type": "string", "description": d} for h, d in _HEADER_DOCS.items()},
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for spec in all_topics():
        names = by_topic.get(spec.name.removesuffix(".dlq"), [])
        cid = spec.name.replace(".", "-")
        channels[cid] = {
            "address": spec.name,
            "description": f"{spec.description}. Key: {spec.key}."
            + (" Public: other systems may consume it." if spec.public else ""),
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
            "bindings": {
                "kafka": {
                    "topic": spec.name,
                    "partitions": spec.partitions,
                    "topicConfiguration": {"retention.ms": spec.retention_ms},
                }
            },
        }
        if names:
            operations[f"receive-{cid}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{cid}"},
                "messages": [{"$ref": f"#/channels/{cid}/messages/{n}"} for n in names],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Shkala events",
            "version": "1.0.0",
            "description": "Facts and domain events of Shkala. Every message is a CloudEvents "
            "1.0 event in Kafka binary mode: attributes in `ce_*` headers, JSON "
            "data in the value, tenant and W3C trace context in headers.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "make infra-up"}
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(components_schemas.items()))},
    }


def render(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def expected_files() -> dict[Path, str]:
    files = {SCHEMA_DIR / name: render(s) for name, s in json_schemas().items()}
    files[ASYNCAPI_PATH] = render(asyncapi())
    return files


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    wanted = expected_files()
    for stale in set(SCHEMA_DIR.glob("*.json")) - set(wanted):
        stale.unlink()
    for path, text in wanted.items():
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(wanted)} files under {ROOT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
