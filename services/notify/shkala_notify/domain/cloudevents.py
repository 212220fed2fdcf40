"""The CloudEvent in structured mode (attributes + ``data``): what webhooks and SSE carry."""

from __future__ import annotations

from typing import Any

from shkala_contracts import Envelope, Event


def structured(envelope: Envelope, event: Event) -> dict[str, Any]:
    """Attributes as CloudEvents 1.0 JSON format, tenant and originator as extensions."""
    ce: dict[str, Any] = {
        "specversion": envelope.specversion,
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "time": envelope.time.isoformat().replace("+00:00", "Z"),
        "subject": envelope.subject,
        "dataschema": envelope.dataschema,
        "datacontenttype": envelope.datacontenttype,
        "region": envelope.tenant.region,
        "originatorid": envelope.originator_id,
        "originatorversion": envelope.originator_version,
    }
    if envelope.tenant.municipality:
        ce["municipality"] = envelope.tenant.municipality
    if envelope.tenant.school:
        ce["school"] = envelope.tenant.school
    ce["data"] = event.model_dump(mode="json")
    return ce
