"""One FastAPI app serving the widget's demo page and assets (and, mounted here, the agent console)."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from bot.config import Settings, load_settings
from bot.storage import Database
from channels.console import STATIC_DIR as CONSOLE_STATIC, console_router
from channels.console.throttle import SignInThrottle
from channels.web.agreements import router as agreements_router

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"


def create_app(settings: Settings | None = None, *, sign_in_throttle: SignInThrottle | None = None) -> FastAPI:
    """The web app for these settings (tests pass their own sign-in limits)."""
    settings = settings or load_settings()
    app = FastAPI(title="Debt assistant web", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.database = Database(settings.database_url)
    app.include_router(agreements_router)

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
