"""`layerwise serve`: answer prediction requests over HTTP (FastAPI + uvicorn)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")  # uvicorn's


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    run_dir: Path = typer.Argument(..., help="A finished run directory."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; the default answers this machine only."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port (0 = any free port)."),
    max_rows: int = typer.Option(10_000, "--max-rows", min=1, help="Most rows in one request (more: 413)."),
    max_body_mb: float = typer.Option(10.0, "--max-body-mb", min=0.001,
                                      help="Largest request body in MiB (more: 413)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level: " + "|".join(LOG_LEVELS) + "."),
) -> None:
    """Serve predictions: POST /predict, GET /model, GET /health, docs at /docs."""
    import socket

    from ..errors import LayerwiseError
    from ..serve import create_app, loopback
    from ..suggest import unknown_choice

    if log_level not in LOG_LEVELS:  # uvicorn refused it only after "serving ..." was printed, with a traceback
        raise LayerwiseError(unknown_choice("--log-level", log_level, LOG_LEVELS))
    app = create_app(run_dir, max_rows=max_rows, max_body_bytes=int(max_body_mb * 2**20))
    try:  # bind here first: a taken port is a one-line user error, not a uvicorn traceback
        listener = socket.create_server((host, port))
    except OSError as exc:
        raise LayerwiseError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from None
    # asyncio turns Nagle off only for sockets whose proto is IPPROTO_TCP, and create_server makes
    # proto 0 ones: without this, keep-alive clients wait 40 ms (delayed ACK) on every response.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not loopback(host):
        print(f"warning: listening on {host}: anyone who can reach this address can query the model "
              "(there is no authentication)", file=sys.stderr)
    bound = listener.getsockname()[1]
    print(f"serving {run_dir} on http://{host}:{bound}  (docs: /docs, Ctrl-C stops)", flush=True)
    import uvicorn

    config = uvicorn.Config(app, log_level=log_level)
    uvicorn.Server(config).run(sockets=[listener])
