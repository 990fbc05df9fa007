"""The compliance report (one agreement) and the transparency report (every partner, per month).

Every figure is counted from the audit trail itself, streamed over the period, never loaded
whole; the arrests table only tells who a disclosed record was about and the arrest population
the disparate-impact table compares with.
"""
