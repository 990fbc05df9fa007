"""The records pages (issue 7): routes on `router`, templates under templates/records/."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
