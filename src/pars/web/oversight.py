"""The oversight pages (issue 7): routes on `router`, templates under templates/oversight/."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
