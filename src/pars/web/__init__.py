"""Server-rendered pages for the people who use PARS every day (issue 7).

Every page is a plain HTML form or table that works without JavaScript; `static/pars.js` only adds
comfort. Pages call the same services as the API, with the signed-in user as the actor, so every
rule (roles, the gate, the audit trail) is the services' and holds here too.

- `render`: the templates, the navigation by role, times in the jurisdiction's zone.
- `guard`: the signed-in user behind the session cookie, CSRF, role checks, error pages.
- `signin`: sign-in with password and TOTP, enrolment with a QR code, sign-out, the home page.
- `records`, `agreements`, `partner`, `oversight`: each role's pages.
"""
