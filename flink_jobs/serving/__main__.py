"""``python -m flink_jobs.serving``: serve the feature API with uvicorn on the configured port."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

import uvicorn

from flink_jobs.errors import UserError
from flink_jobs.logs import configure_process
from flink_jobs.serving.app import create_app, write_openapi
from flink_jobs.settings import Settings, load_settings


def serve(settings: Settings) -> None:
    """Serve until interrupted; a configuration the API refuses raises UserError."""
    configure_process(settings)
    app = create_app(settings)
    gc.freeze()  # startup's ~70k objects: full collections skip them, not pause ~30 ms
    uvicorn.run(  # log_config=None: uvicorn's loggers go through ours (flink_jobs.logs)
        app, host=settings.host, port=settings.api_port, log_level="warning", access_log=False,
        log_config=None,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m flink_jobs.serving", description="Serve online features over HTTP."
    )
    parser.add_argument(
        "--write-openapi", type=Path, metavar="PATH", help="write the OpenAPI document and exit"
    )
    args = parser.parse_args(argv)
    if args.write_openapi:
        write_openapi(args.write_openapi)
        return
    try:
        serve(load_settings())
    except UserError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
