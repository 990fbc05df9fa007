"""Oversight: misuse detectors over the audit trail, their alerts and review, and the compliance
and transparency reports (docs/oversight.md)."""
