"""Pennsylvania offense catalog: statute parsing and display, and the grades courts recorded.

The data ships with the package (data/pa_offenses.json, derived by `python -m pars.catalog.build`;
see data/PROVENANCE.md).
"""

from pars.catalog.service import (
    Catalog,
    GradeNotRecorded,
    Offense,
    SealingExclusion,
    UnknownStatute,
    get_catalog,
)
from pars.catalog.statutes import (
    Statute,
    StatuteSyntaxError,
    parse_statute,
    statute_from_parts,
)

__all__ = [
    "Catalog",
    "GradeNotRecorded",
    "Offense",
    "SealingExclusion",
    "Statute",
    "StatuteSyntaxError",
    "UnknownStatute",
    "get_catalog",
    "parse_statute",
    "statute_from_parts",
]
