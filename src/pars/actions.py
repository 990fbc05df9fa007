"""The vocabulary of the audit trail (CONTRACT §10); the README lists every action."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    ERROR = "error"


class AuditAction(StrEnum):
    AUTH_FAILED = "auth.failed"
    # Authenticated, but the role does not allow the action.
    AUTH_DENIED = "auth.denied"
    # A key's first successful use, and its first after failed attempts or a lock (see README).
    AUTH_SUCCEEDED = "auth.succeeded"
    AUTH_LOCKED = "auth.locked"
    # The web pages: the end of a sign-in (password and second factor), enrolling an
    # authenticator, signing out or being signed out after the idle limit.
    AUTH_SIGN_IN = "auth.sign_in"
    AUTH_TOTP_ENROL = "auth.totp_enrol"
    AUTH_SIGN_OUT = "auth.sign_out"

    ADMIN_AGENCY_CREATE = "admin.agency_create"
    ADMIN_AGENCY_LIST = "admin.agency_list"
    ADMIN_USER_CREATE = "admin.user_create"
    ADMIN_KEY_ISSUE = "admin.key_issue"
    ADMIN_KEY_REVOKE = "admin.key_revoke"
    ADMIN_PASSWORD_SET = "admin.password_set"  # noqa: S105 - an action name, not a password
    SYSTEM_INIT = "admin.system_init"

    # Reading the trail is itself on the trail (CJIS Security Policy 5.4).
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    AUDIT_CHECKPOINT_READ = "audit.checkpoint_read"
    AUDIT_DISCLOSURES_READ = "audit.disclosures_read"
    AUDIT_EXPORT = "audit.export"

    ARREST_CREATE = "arrest.create"
    ARREST_READ = "arrest.read"
    ARREST_SEARCH = "arrest.search"
    ARREST_CHARGING_DECISION = "arrest.charging_decision"
    ARREST_ARRAIGNMENT = "arrest.arraignment"
    ARREST_COMMITMENT = "arrest.commitment"
    ARREST_RELEASE = "arrest.release"
    ARREST_SEAL = "arrest.seal"
    ARREST_DOCKET = "arrest.docket_read"

    AGREEMENT_PROPOSE = "agreement.propose"
    AGREEMENT_AMEND = "agreement.amend"
    AGREEMENT_VOTE = "agreement.vote"
    AGREEMENT_APPROVE = "agreement.approve"
    AGREEMENT_REJECT = "agreement.reject"
    AGREEMENT_SUSPEND = "agreement.suspend"
    AGREEMENT_LIFT_VOTE = "agreement.lift_vote"
    AGREEMENT_LIFT = "agreement.lift"
    AGREEMENT_TERMINATE = "agreement.terminate"
    AGREEMENT_READ = "agreement.read"
    # The impact preview of a version (issue 16): counts only, the version and the period.
    AGREEMENT_IMPACT = "agreement.impact_preview"

    # Partners' registered cases (CONTRACT §7): registering, closing, reading them.
    CASE_REGISTER = "case.register"
    CASE_CLOSE = "case.close"
    CASE_READ = "case.read"

    DETAINER_FILE = "detainer.file"
    DETAINER_READ = "detainer.read"

    # The real-time feed (CONTRACT §9): what was sent or withheld, and the partners' subscriptions.
    FEED_READ = "feed.read"
    FEED_DELIVER = "feed.deliver"
    FEED_WITHHOLD = "feed.withhold"
    FEED_SUBSCRIBE = "feed.subscribe"
    FEED_UNSUBSCRIBE = "feed.unsubscribe"
    FEED_SUBSCRIPTION_READ = "feed.subscription_read"
    FEED_SUBSCRIPTION_DISABLE = "feed.subscription_disable"
    FEED_REPLAY = "feed.replay"

    # Oversight (docs/oversight.md): the detectors' alerts, their review, the reports.
    OVERSIGHT_SCAN = "oversight.scan"
    OVERSIGHT_ALERT_RAISE = "oversight.alert_raise"
    OVERSIGHT_ALERTS_READ = "oversight.alerts_read"
    OVERSIGHT_ALERT_REVIEW = "oversight.alert_review"
    OVERSIGHT_REPORT_READ = "oversight.report_read"
    # Complaints about partner agencies (issue 16): details carry lengths, never their text.
    OVERSIGHT_COMPLAINT_RECORD = "oversight.complaint_record"
    OVERSIGHT_COMPLAINT_OUTCOME = "oversight.complaint_outcome"
    OVERSIGHT_COMPLAINTS_READ = "oversight.complaints_read"
