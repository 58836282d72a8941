"""The FastAPI application: routes, error shape, dashboard files, start/stop of acquisition."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, HTMLResponse, Response

from .. import __version__
from ..runtime import Runtime
from . import (
    admin,
    data,
    docs,
    errors,
    meters,
    metrics,
    openapi,
    pairs,
    recordings,
    reports,
    stream,
)
from .guard import GuardRules, RequestGuard
from .headers import SecurityHeaders

STATIC_DIR = Path(str(resources.files("tc66c_server"))) / "static"

_FALLBACK_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>TC66C</title><h1>TC66C server</h1>
<p>The dashboard files are missing. The API is at <a href="docs">docs</a>.</p></html>"""


def create_app(runtime: Runtime, *, manage_runtime: bool = True) -> FastAPI:
    """An app serving ``runtime``; with ``manage_runtime`` it starts and stops acquisition."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.hub.bind(asyncio.get_running_loop())
        if manage_runtime:
            runtime.start()
        try:
            yield
        finally:
            if manage_runtime:
                await asyncio.to_thread(runtime.stop)

    app = FastAPI(
        title="tc66c-server",
        version=__version__,
        description="Live readings, history and statistics from an RDTech TC66C USB-C meter.",
        lifespan=lifespan,
        docs_url=None,  # served from vendored files by docs.install, never from a CDN
        redoc_url=None,
    )
    app.state.runtime = runtime
    settings = runtime.settings
    rules = GuardRules.build(
        settings.host,
        settings.http_port,
        allowed_hosts=settings.allowed_hosts,
        token=settings.token,
    )
    # The last added runs first: headers are added to everything, the guard's refusals too.
    app.add_middleware(RequestGuard, rules=rules)
    app.add_middleware(SecurityHeaders)
    errors.install(app)
    openapi.install(app)
    docs.install(app)
    app.include_router(data.router)
    app.include_router(admin.router)
    app.include_router(meters.router)
    app.include_router(pairs.router)
    app.include_router(recordings.router)
    app.include_router(reports.router)
    app.include_router(stream.router)
    app.include_router(metrics.router)

    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    def dashboard() -> Response:
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_FALLBACK_PAGE)

    recordings_page = STATIC_DIR / "recordings.html"

    @app.get("/recordings", include_in_schema=False)
    def recordings_dashboard() -> Response:
        if recordings_page.is_file():
            return FileResponse(recordings_page, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_FALLBACK_PAGE)

    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
