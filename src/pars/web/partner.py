"""The partner pages (issue 7): routes on `router`, templates under templates/partner/."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
