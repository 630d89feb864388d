"""Serve one Rasa input channel in a real Sanic server on a free port, as Rasa mounts it,
with a test's stand-in for Rasa's agent (`app.ctx.agent`)."""
from __future__ import annotations

import socket
import uuid
from typing import Any

from rasa.core.channels.channel import InputChannel, register
from sanic import Sanic


async def serve_channel_app(channel: InputChannel, agent: Any, name: str) -> tuple[Any, str]:
    """(the started server, its base URL); stop it with `stop_channel_app`."""
    app = Sanic(f"{name}_{uuid.uuid4().hex[:8]}", configure_logging=False)
    app.config.MOTD = False
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    return server, f"http://127.0.0.1:{port}"


async def stop_channel_app(server: Any) -> None:
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()
