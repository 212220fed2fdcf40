"""Events of the plans service's aggregates (roadmaps, recommendations, measures,
effectiveness evaluations). Owned by services/plans."""

from __future__ import annotations

TOPIC = "shkala.plans.v1"
