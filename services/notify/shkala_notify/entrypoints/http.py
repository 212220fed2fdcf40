"""HTTP routes of the notify service: translate requests and delegate to the service layer."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
