"""The HTTP service behind `spin-detect serve`: the `Detector` on FastAPI and uvicorn (extra ``serve``).

One module per idea: `config` (the settings and limits), `guard` (bearer token, body limits, JSON
errors), `batching` (concurrent requests gathered into one detector pass on the model thread),
`store` (the served index and its atomic writes), `requests` (the request bodies), `app` (the
routes and the OpenAPI document) and `server` (uvicorn, readiness, a clean exit on SIGTERM).
Deployment: docs/DEPLOY.md.

Example:
    >>> from detector.serve import ServeSettings, run_server                   # doctest: +SKIP
    >>> run_server(ServeSettings(index="build/seed-index"))                   # doctest: +SKIP
"""

from detector.serve.config import Limits, ServeSettings
from detector.serve.server import run_server

__all__ = ["Limits", "ServeSettings", "run_server"]
