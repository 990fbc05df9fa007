"""Every page route, and the static files, mounted on the app."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from pars.web import agreements, cases, complaints, guard, oversight, partner, records, signin, transparency
from pars.web.render import HERE


def install(app: FastAPI) -> None:
    for module in (signin, records, agreements, partner, cases, oversight, complaints):
        app.include_router(module.router, dependencies=[Depends(guard.mark_web)])
    # The public transparency page: the one page without a session (its allow rule is there).
    transparency.install(app, dependencies=[Depends(guard.mark_web)])
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    guard.install(app)
