"""`spin-detect serve`: the detector behind an HTTP service (extra ``serve``: FastAPI and uvicorn).

Example:
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(serve, ["--help"]).exit_code
    0
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from detector.cli import precision_option
from detector.errors import IndexFormatError, InputError

__all__ = ["serve", "serve_settings"]

INSTALL_HINT = "the HTTP service needs the serve extra: pip install 'spin-detector[serve]'"


def serve_settings(index: str | None, *, token_file: str | None = None, **options) -> "ServeSettings":
    """The `ServeSettings` of a command line: the token from --token-file or $SPIN_DETECTOR_TOKEN,
    the index folder checked before anything loads."""
    from detector.index import recover_index
    from detector.serve.config import Limits, ServeSettings, read_token

    if index is None:
        raise InputError("no index given: name the source index folder with --index (build one with `spin-detect index build`)")
    recover_index(index)  # a save killed between its renames leaves the index beside its path
    if not Path(index).is_dir():
        raise IndexFormatError(f"no index folder at {index!r}: build one with `spin-detect index build`")
    limit_names = ("max_body_bytes", "max_batch_articles", "max_sentences", "request_timeout_s")
    limits = Limits(**{name: options.pop(name) for name in limit_names})
    return ServeSettings(index=index, token=read_token(token_file), limits=limits, **options)


@click.command()
@click.option("--index", "index", type=click.Path(), default=None, help="Source index folder (`spin-detect index build`).")
@click.option("--model", type=click.Path(), default=None,
              help="Trained classifier folder (default: $SPIN_DETECTOR_MODEL, else models/spin-classifier if present).")
@precision_option(default="fp32")
@click.option("--host", default=None,
              help="Interface to listen on. Default: 127.0.0.1 without a token, all interfaces with one.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--writable", is_flag=True, help="Allow POST /v1/sources and DELETE /v1/sources/{id} (saved atomically).")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="File holding the bearer token every /v1 call must send (default: $SPIN_DETECTOR_TOKEN; none: no token).")
@click.option("--max-body-bytes", type=click.IntRange(1), default=10_000_000, show_default=True, help="Largest request body.")
@click.option("--max-batch-articles", type=click.IntRange(1), default=32, show_default=True,
              help="Most articles in one POST /v1/analyze/batch.")
@click.option("--max-sentences", type=click.IntRange(1), default=512, show_default=True,
              help="Most sentences in one POST /v1/score.")
@click.option("--request-timeout", "request_timeout_s", type=click.FloatRange(min=0.001), default=120.0, show_default=True,
              help="Seconds a request may take before it is answered 408.")
@click.option("--batch-wait-ms", type=click.FloatRange(min=0.0), default=5.0, show_default=True,
              help="How long concurrent requests are gathered into one detector pass.")
@click.option("--batch-articles", type=click.IntRange(1), default=32, show_default=True,
              help="Most articles in one detector pass.")
@click.option("--openapi", "print_openapi", is_flag=True, help="Print the OpenAPI document (docs/openapi.json) and exit.")
def serve(index: str | None, print_openapi: bool, **options) -> None:
    """Serve the detector over HTTP: /v1/analyze, /v1/analyze/batch, /v1/score, /v1/compare,
    /v1/sources, /healthz, /readyz, /v1/version (docs/DEPLOY.md).

    SIGTERM lets the requests in flight finish, then exits with code 0.
    """
    try:
        from detector.serve import run_server
        from detector.serve.app import openapi_document
    except ImportError as error:
        raise InputError(f"{INSTALL_HINT} ({error})") from None
    if print_openapi:
        click.echo(json.dumps(openapi_document(), indent=2, ensure_ascii=False))
        return
    run_server(serve_settings(index, **options))
