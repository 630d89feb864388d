"""One FastAPI app serving the widget's demo page and assets (and, mounted here, the agent console)."""
from __future__ import annotations

from pathlib import Path

import asyncio

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from bot.config import Settings, load_settings
from bot.negotiation import load_policy
from bot.storage import Database
from channels.console import STATIC_DIR as CONSOLE_STATIC, console_router
from channels.console.throttle import SignInThrottle
from channels.web.agreements import router as agreements_router
from channels.web.payments import router as payments_router
from channels.console.rasa_api import RasaConversations
from channels.web.schedule import notify_unclaimed_forever, purge_forever, reconcile_forever, wait_notice_interval

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"


def create_app(settings: Settings | None = None, *, sign_in_throttle: SignInThrottle | None = None) -> FastAPI:
    """The web app for these settings (tests pass their own sign-in limits)."""
    settings = settings or load_settings()
    app = FastAPI(title="Debt assistant web", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.database = Database(settings.database_url)
    app.state.policy = load_policy(settings.policy_path)
    app.include_router(agreements_router)
    app.include_router(payments_router)

    @app.on_event("startup")
    async def start_schedule() -> None:
        if settings.reconcile_interval_minutes > 0:
            app.state.reconciler = asyncio.get_running_loop().create_task(
                reconcile_forever(app.state.database, app.state.policy, settings.reconcile_interval_minutes))
        if settings.purge_interval_hours > 0:
            app.state.purger = asyncio.get_running_loop().create_task(
                purge_forever(app.state.database, settings, settings.purge_interval_hours))
        if wait_notice_interval() > 0:
            app.state.wait_notices = asyncio.get_running_loop().create_task(notify_unclaimed_forever(
                app.state.database, app.state.policy.desk,
                RasaConversations(settings.rasa_url, settings.rasa_api_token), wait_notice_interval()))

    @app.on_event("shutdown")
    async def stop_schedule() -> None:
        for name in ("reconciler", "purger", "wait_notices"):
            task = getattr(app.state, name, None)
            if task is not None:
                task.cancel()

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict:
        return {"status": "ok"}

    if (WIDGET_DIR / "static").is_dir():
        app.mount("/widget", StaticFiles(directory=WIDGET_DIR / "static"), name="widget")

    app.include_router(console_router(settings, db=app.state.database, throttle=sign_in_throttle))
    app.mount("/console/static", StaticFiles(directory=CONSOLE_STATIC), name="console-static")

    @app.get("/", include_in_schema=False)
    def demo_page() -> FileResponse:
        return FileResponse(WIDGET_DIR / "demo.html", media_type="text/html")

    return app
