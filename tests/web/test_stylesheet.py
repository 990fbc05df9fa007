"""pars.css is written by hand and merged by hand: a brace lost in a merge silently nests every
later rule in the block before it (a phone-only media query, say), and the desktop pages lose
them. The sheet must parse into top-level rules with every block closed."""

from __future__ import annotations

from pathlib import Path

import tinycss2

from pars.web.render import HERE

SHEETS = sorted((HERE / "static").glob("*.css"))


def test_every_block_is_closed_and_no_media_query_nests_another() -> None:
    assert SHEETS
    for sheet in SHEETS:
        text = Path(sheet).read_text(encoding="utf-8")
        rules = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
        errors = [rule for rule in rules if rule.type == "error"]
        assert not errors, f"{sheet.name}: {errors}"
        for rule in rules:
            if rule.type == "at-rule" and rule.lower_at_keyword == "media" and rule.content:
                inner = tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True)
                nested = [r for r in inner if r.type == "at-rule"]
                assert not nested, f"{sheet.name}:{rule.source_line}: a media query holds another: a brace is missing"
        # A block left open at the end of the file is closed by the parser without a word: count.
        plain = tinycss2.serialize(rules)
        assert text.count("{") - text.count("}") == plain.count("{") - plain.count("}") == 0, sheet.name
