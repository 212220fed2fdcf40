"""HTTP routes of the plans service: translate requests and delegate to the service layer."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
