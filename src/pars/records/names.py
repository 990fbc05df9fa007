"""Name matching. Stored names are never altered; only this key is compared."""

from __future__ import annotations

import unicodedata


def name_key(text: str | None) -> str | None:
    """Accents removed (NFKD without combining marks), case-folded, white space collapsed.

    Letters with no decomposition (Đ, Ø, Chinese, Arabic) stay as they are, so names in any
    script still match themselves.
    """
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
