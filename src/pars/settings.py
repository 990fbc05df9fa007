"""Every setting PARS reads, in one typed class (environment prefix ``PARS_``).

Unsafe or malformed values are refused when the settings are built, so a misconfigured
process stops at start-up with a clear message instead of failing at first use.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class PrivateTargets(StrEnum):
    """``PARS_WEBHOOK_PRIVATE_TARGETS``: which addresses a webhook may go to (CONTRACT §1)."""

    DENY = "deny"  # public addresses only
    LOOPBACK = "loopback"  # public and loopback addresses (development, tests, `pars demo`)
    ALLOW = "allow"  # any address (a closed network)


DEFAULT_PROTECTED_FIELDS = (
    "person.place_of_birth",
    "person.citizenship",
    "person.ssn",
    "victims",
    "witnesses",
)

# Comma-separated lists are how operators write them in an environment file; pydantic-settings
# would otherwise expect JSON.
CommaList = Annotated[tuple[str, ...], NoDecode]


def _split(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


# A JetStream stream name, or one token of a subject: no wildcards, dots or spaces.
_NATS_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def parse_duration(text: str) -> timedelta:
    """Reads `5s`, `5m`, `2h` or `1d`; the retry schedule is written this way."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError(f"{text!r} is not a duration like 5s, 5m, 2h or 1d")
    return timedelta(seconds=int(text[:-1]) * units[text[-1]])


def lease_margin(deadline: float) -> float:
    """What a webhook lease must leave beyond an attempt's deadline: time to record the result
    before another worker may take the job again (at least 2 s, and as long as the deadline)."""
    return max(2.0, deadline)


def lease_floor(deadline: float) -> float:
    """The shortest lease a delivery deadline allows (``PARS_WEBHOOK_LEASE_SECONDS``, `pars
    worker --lease`): a lease that could run out while an attempt is still in flight would let a
    second worker send the same attempt."""
    return deadline + lease_margin(deadline)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARS_", extra="ignore", frozen=True)

    database_url: str = "sqlite:///./pars.db"
    # Deadlines that keep a saturated database from hanging requests (CONTRACT §3): past them the
    # API answers 503 with Retry-After. Statement and lock timeouts apply on PostgreSQL, the busy
    # timeout on SQLite (waiting for another writer), the pool timeout to both.
    database_statement_timeout: float = Field(default=5, gt=0, le=600)
    database_lock_timeout: float = Field(default=2, gt=0, le=600)
    database_busy_timeout: float = Field(default=5, gt=0, le=600)
    database_pool_timeout: float = Field(default=5, gt=0, le=600)
    database_connect_timeout: int = Field(default=3, ge=1, le=60)
    # The same for `pars` commands and the worker (`pars worker`, and its thread in `pars serve`):
    # a lock another connection holds ends a command with a clear message after the lock timeout
    # (PostgreSQL's lock_timeout, SQLite's busy timeout), and the worker tries again on its next
    # round. The statement timeout is long: `pars audit verify` and `pars audit export` read a
    # large trail in batches, each its own statement, and a migration may rewrite a big table.
    database_command_lock_timeout: float = Field(default=10, gt=0, le=3600)
    database_command_statement_timeout: float = Field(default=600, gt=0, le=86400)
    # A request body must arrive whole within this many seconds (a slow-body client holds no
    # admission slot meanwhile); a request waits at most this long for a slot before a 503.
    http_body_timeout: float = Field(default=10, gt=0, le=600)
    http_admission_timeout: float = Field(default=10, gt=0, le=600)
    admin_key: str | None = Field(default=None, repr=False)
    timezone: str = "America/New_York"
    protected_fields: CommaList = DEFAULT_PROTECTED_FIELDS
    prohibited_purposes: CommaList = ("civil_immigration_enforcement",)
    agreement_quorum: int = Field(default=2, ge=1)
    arraignment_sla_hours: float = Field(default=24, gt=0)
    webhook_retry_schedule: CommaList = ("5s", "5m", "30m", "2h", "5h", "10h", "10h")
    # Where webhooks may go, checked at subscription and on every send after resolution
    # (docs/feed.md): public addresses only, loopback too (development, tests, the demo), or any.
    webhook_private_targets: PrivateTargets = PrivateTargets.DENY
    # One attempt's total deadline: connect, send and the whole answer (at most 64 KiB is read).
    webhook_deadline_seconds: float = Field(default=10, gt=0, le=300)
    # How long a claimed delivery stays one worker's; at least lease_floor(deadline).
    webhook_lease_seconds: float = Field(default=60, gt=0)
    # Attempts one worker has in flight to one endpoint at most.
    webhook_endpoint_concurrency: int = Field(default=16, ge=1, le=256)
    nats_url: str | None = None
    # The JetStream stream and subject prefix the feed's wake-ups travel on (docs/deployment.md);
    # nodes that share a database must share these, separate deployments on one NATS must not.
    nats_stream: str = "PARS_EVENTS"
    nats_subject: str = "pars.events"
    # Wake-ups are only worth anything for seconds; the stream keeps them this long, at most.
    nats_max_age: str = "1h"
    nats_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    audit_key_file: Path = Path("./pars-audit.key")
    audit_retention_days: int = Field(default=400, ge=1)
    # A signed checkpoint at the first commit after this many entries or seconds since the last.
    audit_checkpoint_entries: int = Field(default=1000, ge=1)
    audit_checkpoint_seconds: float = Field(default=60, gt=0)
    # Misuse detection (docs/oversight.md names each rule and the thresholds it reads).
    oversight_scan_seconds: float = Field(default=10, gt=0)
    oversight_scan_batch: int = Field(default=5000, ge=100)
    oversight_max_evidence: int = Field(default=1000, ge=10)
    oversight_high_factor: float = Field(default=3, ge=1)
    oversight_no_case_min: int = Field(default=5, ge=1)
    oversight_broad_search_people: int = Field(default=8, ge=2)
    oversight_broad_search_hours: int = Field(default=6, ge=1, le=24)
    oversight_probe_min: int = Field(default=1, ge=1)
    oversight_ungranted_probe_min: int = Field(default=3, ge=1)
    oversight_baseline_days: int = Field(default=28, ge=2)
    oversight_baseline_min_days: int = Field(default=7, ge=1)
    oversight_volume_factor: float = Field(default=5, gt=1)
    oversight_volume_min: int = Field(default=50, ge=1)
    oversight_night_start_hour: int = Field(default=22, ge=0, le=23)
    oversight_night_end_hour: int = Field(default=6, ge=0, le=23)
    oversight_off_hours_factor: float = Field(default=3, gt=1)
    oversight_off_hours_min: int = Field(default=10, ge=1)
    oversight_scope_window_days: int = Field(default=7, ge=1)
    oversight_out_of_scope_min: int = Field(default=5, ge=1)
    oversight_after_end_min: int = Field(default=3, ge=1)
    oversight_repeat_window_days: int = Field(default=7, ge=1)
    oversight_repeat_min: int = Field(default=3, ge=1)
    oversight_repeat_collapse_minutes: int = Field(default=15, ge=0)
    oversight_repeat_references_min: int = Field(default=3, ge=2)
    # People expected, by chance alone, to be looked up as often as the one flagged under several
    # references, given the agency's volume and the people on file: at most this many.
    oversight_repeat_chance: float = Field(default=0.01, gt=0, lt=1)
    # Lookups of people arrested this many hours before the query are the follow-up of the
    # city's own arrests: volume_spike, off_hours_bulk and broad_search leave them out.
    oversight_recent_arrest_hours: float = Field(default=48, ge=0)
    oversight_broad_search_pooled_people: int = Field(default=20, ge=2)
    oversight_broad_search_pooled_factor: float = Field(default=3, gt=1)
    oversight_refused_sweep_min: int = Field(default=6, ge=1)
    oversight_refused_sweep_factor: float = Field(default=3, gt=1)
    oversight_churn_min: int = Field(default=15, ge=2)
    oversight_churn_factor: float = Field(default=3, gt=1)
    oversight_churn_once_share: float = Field(default=0.8, gt=0, le=1)
    oversight_skew_window_days: int = Field(default=7, ge=1)
    oversight_skew_min_people: int = Field(default=20, ge=5)
    oversight_skew_min_population: int = Field(default=50, ge=10)
    # Family-wise error per window: each group tested at ALPHA / (groups tested), Bonferroni.
    oversight_skew_alpha: float = Field(default=1e-6, gt=0, le=0.05)
    oversight_skew_min_ratio: float = Field(default=1.5, gt=1)

    _split_lists = field_validator("protected_fields", "prohibited_purposes", "webhook_retry_schedule", mode="before")(
        _split
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("PARS_DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://") or value.startswith("postgresql+psycopg2"):
            raise ValueError("use the psycopg 3 driver: postgresql+psycopg://…")
        return value

    @field_validator("admin_key")
    @classmethod
    def _strong_admin_key(cls, value: str | None) -> str | None:
        # The admin key is a bearer secret stored as a fast hash (see auth.keys); that is only
        # safe for a high-entropy value, so short keys are refused rather than hashed.
        if value is not None and len(value) < 32:
            raise ValueError("PARS_ADMIN_KEY must be at least 32 characters")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _valid_schedule(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            parse_duration(item)
        return value

    @field_validator("nats_url")
    @classmethod
    def _nats_servers(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        for server in value.split(","):
            if not server.strip().startswith(("nats://", "tls://", "ws://", "wss://")):
                raise ValueError("PARS_NATS_URL must be nats://host:port (several separated by commas)")
        return value

    @field_validator("nats_stream")
    @classmethod
    def _nats_stream_name(cls, value: str) -> str:
        if not _NATS_NAME.fullmatch(value):
            raise ValueError("PARS_NATS_STREAM may use only letters, digits, '_' and '-'")
        return value

    @field_validator("nats_subject")
    @classmethod
    def _nats_subject_prefix(cls, value: str) -> str:
        if not all(_NATS_NAME.fullmatch(token) for token in value.split(".")):
            raise ValueError("PARS_NATS_SUBJECT must be dot-separated tokens of letters, digits, '_' and '-'")
        return value

    @field_validator("nats_max_age")
    @classmethod
    def _nats_age(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("oversight_broad_search_hours")
    @classmethod
    def _divides_the_day(cls, value: int) -> int:
        # Windows are whole blocks of the city day, so the same hour always falls in the same one.
        if 24 % value:
            raise ValueError("PARS_OVERSIGHT_BROAD_SEARCH_HOURS must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24)")
        return value

    @model_validator(mode="after")
    def _lease_outlives_attempts(self) -> Settings:
        floor = lease_floor(self.webhook_deadline_seconds)
        if self.webhook_lease_seconds < floor:
            raise ValueError(
                f"PARS_WEBHOOK_LEASE_SECONDS must be at least {floor:g} with PARS_WEBHOOK_DEADLINE_SECONDS="
                f"{self.webhook_deadline_seconds:g}: a lease must outlive every attempt made under it"
            )
        return self

    @model_validator(mode="after")
    def _coherent_oversight(self) -> Settings:
        if self.oversight_night_start_hour == self.oversight_night_end_hour:
            raise ValueError("PARS_OVERSIGHT_NIGHT_START_HOUR and _END_HOUR must differ")
        if self.oversight_baseline_min_days > self.oversight_baseline_days:
            raise ValueError("PARS_OVERSIGHT_BASELINE_MIN_DAYS cannot exceed PARS_OVERSIGHT_BASELINE_DAYS")
        return self

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
