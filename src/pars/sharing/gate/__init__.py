"""The one gate every partner-bound record passes through (DESIGN principle 1, CONTRACT §7).

At the instant of the request it finds the agreement version in force, checks channel, purpose,
case reference and quota (`core`), filters scope in SQL, projects each record to the granted
fields (`pars.sharing.grants.Grant.project`, a `SharedRecord`), and writes the disclosure (or the
refusal) to the audit trail in the request's transaction. No other code builds a record for a
partner.

- `query`: read and search (the query channel); `counting` refuses a name search that matches
  more than one person; `subject` is the keyed hash of what a search looked for; `case` reads
  the standing of the case a query names, in the agreement's statement;
- `feed`: who an event is due to, and what of it may leave when it is sent (the feed channel);
- `core`: what a partner states, and `authorise` (`authorise_query` with the case); `quota`
  counts the day's queries.
"""

from __future__ import annotations

from pars.sharing.gate.core import Attempt, PartnerRequest, authorise
from pars.sharing.gate.counting import IDENTIFYING_PARAMETERS
from pars.sharing.gate.feed import (
    RELEASE_NOTICE_FIELDS,
    FeedAudience,
    FeedBatch,
    FeedItem,
    FeedKind,
    deliver,
    deliver_many,
    feed_audience,
    open_feed,
)
from pars.sharing.gate.query import read, search
from pars.sharing.gate.quota import QUERIES, QueryCounts

__all__ = [
    "IDENTIFYING_PARAMETERS",
    "QUERIES",
    "RELEASE_NOTICE_FIELDS",
    "Attempt",
    "FeedAudience",
    "FeedBatch",
    "FeedItem",
    "FeedKind",
    "PartnerRequest",
    "QueryCounts",
    "authorise",
    "deliver",
    "deliver_many",
    "feed_audience",
    "open_feed",
    "read",
    "search",
]
