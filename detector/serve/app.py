"""The routes of `spin-detect serve` and its OpenAPI document (docs/openapi.json).

Every /v1 answer is JSON: an article report is exactly `ArticleReport.to_dict()` (the report schema,
`spin-detect schema report`), or its HTML page when the request says ``Accept: text/html``. The
model and index load on the model thread after the server starts listening: /healthz answers at
once, /readyz and the /v1 routes once both are loaded.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.responses import HTMLResponse, Response

from detector.errors import InputError
from detector.serve.batching import MicroBatcher
from detector.serve.config import ServeSettings
from detector.serve.guard import ApiError, Guard, error_response, install_error_handlers
from detector.serve.requests import AnalyzeRequest, BatchRequest, CompareRequest, ScoreRequest, SourceRequest
from detector.serve.store import ServedIndex

__all__ = ["Service", "create_app", "openapi_document"]

log = logging.getLogger("uvicorn.error")  # logged as uvicorn logs
TITLE = "spin-detector"
DESCRIPTION = ("Finds spun content and machine paraphrase: article reports against a source index, sentence scores "
               "and sentence-pair relations (`spin-detect serve`).")
REPORT = {"$ref": "#/components/schemas/ArticleReport"}
ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict:
    """An OpenAPI response that is an error body."""
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


ERRORS = {status: _error(text) for status, text in (
    (400, "The body is not UTF-8 or not JSON."), (401, "Missing or wrong bearer token."),
    (408, "The request took longer than the server's --request-timeout."),
    (413, "Over a limit: body size, articles per batch, sentences, or characters per article."),
    (415, "The body is not sent as application/json."), (422, "Wrong keys or types, or unusable input."),
    (503, "The model and index are still loading."),
)}


class Service:
    """The detector and the served index (None until loaded), and the micro-batchers that feed them."""

    def __init__(self, settings: ServeSettings):
        self.settings = settings
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self.detector = None
        self.store: ServedIndex | None = None
        self.failure: str | None = None
        self.versions: dict = {}
        wait = settings.batch_wait_ms / 1000
        self.analyzer = MicroBatcher(self._analyze, self.executor, wait_s=wait, max_items=settings.batch_articles)
        self.scorer = MicroBatcher(self._score, self.executor, wait_s=wait, max_items=settings.limits.max_sentences)

    @property
    def ready(self) -> bool:
        """Whether the model and the index are loaded and warmed up (the versions are read last)."""
        return bool(self.versions)

    def load(self) -> None:
        """Load the model and the index, then warm them up (on the model thread)."""
        from detector.api import Detector

        settings = self.settings
        detector = Detector.load(settings.model, precision=settings.precision, articles_per_batch=settings.batch_articles,
                                 max_chars=settings.limits.max_chars)
        store = ServedIndex(settings.index, detector.encoder, writable=settings.writable)
        _warm_up(detector, store.index)
        self.detector, self.store = detector, store
        self.versions = self._versions()
        _freeze_heap()

    def _versions(self) -> dict:
        from detector import __version__
        from detector.batch.fingerprints import index_record, model_record
        from detector.schema import SCHEMA_VERSION

        model = model_record(None, self.settings.model) | {"precision": self.settings.precision,
                                                           "decision_version": self.detector.decisions.version}
        return {"package": __version__, "report_schema": SCHEMA_VERSION, "model": model,
                "index": index_record(self.store.path) | {"writable": self.store.writable}}

    async def call(self, function: Callable, *args):
        """``function(*args)`` on the model thread, within the request timeout."""
        loop = asyncio.get_running_loop()
        return await self.within_timeout(loop.run_in_executor(self.executor, function, *args))

    async def within_timeout(self, awaitable):
        """What ``awaitable`` gives, or a 408 once the request timeout has passed."""
        timeout = self.settings.limits.request_timeout_s
        try:
            return await asyncio.wait_for(awaitable, timeout)
        except asyncio.TimeoutError:
            raise ApiError(408, f"the request took over {timeout:g} s (the server's --request-timeout): "
                                "send fewer or shorter articles, or retry when the server is less busy") from None

    def write(self, function: Callable, *args):
        """A write to the index, then the versions it changes."""
        result = function(*args)
        self.versions = self._versions()
        _freeze_heap()
        return result

    def _analyze(self, jobs: list[AnalyzeRequest]) -> list:
        """Reports for the articles of concurrent requests, in one `analyze_many` call per quotation
        setting; if one article is refused, each article again on its own, so that only it fails."""
        results: list = [None] * len(jobs)
        for flag in (False, True):
            positions = [i for i, job in enumerate(jobs) if job.exclude_quotations is flag]
            if not positions:
                continue
            group = [jobs[i] for i in positions]
            try:
                reports = self._reports(group, flag)
            except InputError:
                reports = [self._alone(job, flag) for job in group]
            for position, report in zip(positions, reports):
                results[position] = report
        return results

    def _reports(self, jobs: list[AnalyzeRequest], exclude_quotations: bool) -> list:
        exclusions = [tuple(job.exclude_ids) + ((job.id,) if job.id else ()) for job in jobs]
        reports = list(self.detector.analyze_many([job.text for job in jobs], index=self.store.index,
                                                  exclude_ids=exclusions, exclude_quotations=exclude_quotations))
        for job, report in zip(jobs, reports):
            report.article_id = job.id
        return reports

    def _alone(self, job: AnalyzeRequest, exclude_quotations: bool):
        try:
            return self._reports([job], exclude_quotations)[0]
        except InputError as error:
            return error

    def _score(self, sentences: list[str]) -> list:
        return self.detector.score_sentences(sentences)


def create_app(settings: ServeSettings, on_failure: Callable[[Exception], None] | None = None) -> FastAPI:
    """The FastAPI app; the model and index load in the background once it starts (`on_failure`
    hears a load that failed)."""
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.analyzer.start()
        service.scorer.start()
        loading = asyncio.get_running_loop().run_in_executor(service.executor, service.load)
        loading.add_done_callback(lambda done: _loaded(service, done, on_failure))
        yield
        await service.analyzer.stop()
        await service.scorer.stop()
        service.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title=TITLE, description=DESCRIPTION, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None)
    app.state.service = service
    app.add_middleware(Guard, token=settings.token, limits=settings.limits)
    install_error_handlers(app)
    _add_health_routes(app, service)
    _add_detector_routes(app, service)
    _add_source_routes(app, service)
    app.openapi = lambda: openapi_document(app)
    return app


def _loaded(service: Service, done: asyncio.Future, on_failure) -> None:
    error = None if done.cancelled() else done.exception()
    if error is None:
        log.info("ready: model and index loaded")
        return
    service.failure = f"loading failed: {error}"
    log.error("%s", service.failure)
    if on_failure is not None:
        on_failure(error)


_WARM_UP_PAIR = ("The alliance should not admit new members.", "The alliance should not confess new participants.")


def _warm_up(detector, index) -> None:
    """One pair and one article through every stage before the server says ready: the first call
    imports modules and loads tables lazily while holding the GIL, which would stall the health
    checks of the first requests."""
    detector.compare(*_WARM_UP_PAIR)
    report = detector.analyze(" ".join(_WARM_UP_PAIR), index=index)
    report.to_html()
    json.dumps(report.to_dict())


def _freeze_heap() -> None:
    """Move the loaded model and index out of the garbage collector's sight (`gc.freeze`): a full
    collection over them holds the GIL long enough to stall every request meanwhile."""
    gc.collect()
    gc.freeze()


def _json(data, status: int = 200) -> Response:
    """A JSON answer; ``data`` may be a function that gives it, so that a large report is turned into
    JSON off the event loop (``asyncio.to_thread(_json, report.to_dict)``)."""
    data = data() if callable(data) else data
    return Response(json.dumps(data, ensure_ascii=False), status_code=status, media_type="application/json")


def _ready(service: Service) -> None:
    if service.failure is not None:
        raise ApiError(503, service.failure)
    if not service.ready:
        raise ApiError(503, "the model and index are still loading: retry when GET /readyz answers 200")


def _check_length(service: Service, text: str, name: str) -> None:
    limit = service.settings.limits.max_chars
    if len(text) > limit:
        raise ApiError(413, f"{name} has {len(text):,} characters, over the limit of {limit:,}: "
                            "split it into several articles")


def _check_count(count: int, limit: int, what: str, per: str) -> None:
    if count > limit:
        raise ApiError(413, f"{count} {what}, over the limit of {limit} {per}: send them in parts")


def _add_health_routes(app: FastAPI, service: Service) -> None:
    @app.get("/healthz", tags=["health"], summary="The server answers.")
    async def healthz():
        return _json({"status": "ok"})

    @app.get("/readyz", tags=["health"], summary="Ready once the model and index are loaded.",
             responses={503: ERRORS[503]})
    async def readyz():
        if not service.ready:
            return error_response(503, service.failure or "loading the model and index")
        return _json({"status": "ready", "documents": len(service.store.index)})

    @app.get("/v1/version", tags=["health"], summary="Package, report schema, model and index versions.",
             responses={401: ERRORS[401], 503: ERRORS[503]})
    async def version():
        _ready(service)
        return _json(service.versions)


def _add_detector_routes(app: FastAPI, service: Service) -> None:
    common = {status: ERRORS[status] for status in (400, 401, 408, 413, 415, 422, 503)}

    @app.post("/v1/score", tags=["detector"], summary="Sentence scores from the classifier alone.", responses=common)
    async def score(body: ScoreRequest):
        _ready(service)
        _check_count(len(body.sentences), service.settings.limits.max_sentences, "sentences", "a request")
        scores = await service.within_timeout(service.scorer.submit(body.sentences))
        return _json({"scores": [asdict(item) for item in scores]})

    @app.post("/v1/compare", tags=["detector"], summary="The relation of a suspect sentence to a source sentence.",
              responses=common)
    async def compare(body: CompareRequest):
        _ready(service)
        result = await service.call(service.detector.compare, body.source, body.suspect)
        return _json(result.to_dict())

    analyze_responses = common | {200: {"description": "The article report (HTML with Accept: text/html).",
                                        "content": {"application/json": {"schema": REPORT},
                                                    "text/html": {"schema": {"type": "string"}}}}}

    @app.post("/v1/analyze", tags=["detector"], summary="One article's report.", responses=analyze_responses)
    async def analyze(body: AnalyzeRequest, request: Request):
        _ready(service)
        _check_length(service, body.text, "the article")
        report = (await service.within_timeout(service.analyzer.submit([body])))[0]
        if _wants_html(request):
            return HTMLResponse(await asyncio.to_thread(report.to_html))
        return await asyncio.to_thread(_json, report.to_dict)

    batch_responses = common | {200: {"description": "One report per article, in order.", "content": {
        "application/json": {"schema": {"type": "object", "properties": {"reports": {"type": "array", "items": REPORT}}}}}}}

    @app.post("/v1/analyze/batch", tags=["detector"], summary="Reports for several articles.", responses=batch_responses)
    async def analyze_batch(body: BatchRequest):
        _ready(service)
        _check_count(len(body.articles), service.settings.limits.max_batch_articles, "articles", "a batch")
        for position, job in enumerate(body.articles):
            _check_length(service, job.text, f"articles[{position}]")
        reports = await service.within_timeout(service.analyzer.submit(body.articles)) if body.articles else []
        return await asyncio.to_thread(_json, lambda: {"reports": [report.to_dict() for report in reports]})


def _add_source_routes(app: FastAPI, service: Service) -> None:
    common = {status: ERRORS[status] for status in (401, 408, 503)}
    source = {"description": "The indexed source.", "content": {"application/json": {"schema": {"type": "object"}}}}

    @app.get("/v1/sources/{source_id}", tags=["index"], summary="An indexed source.",
             responses=common | {200: source, 404: _error("No such source.")})
    async def get_source(source_id: str):
        _ready(service)
        return _json(await service.call(service.store.source, source_id))

    write_errors = common | {status: ERRORS[status] for status in (400, 413, 415, 422)}
    write_errors |= {403: _error("The server was started without --writable."),
                     409: _error("The id is taken.")}

    @app.post("/v1/sources", tags=["index"], status_code=201, summary="Add a source (with --writable); saved atomically.",
              responses=write_errors)
    async def add_source(body: SourceRequest):
        _ready(service)
        _check_length(service, body.text, "the source")
        result = await service.call(service.write, service.store.add, body.id, body.text, body.meta)
        return _json(asdict(result), status=201)

    @app.delete("/v1/sources/{source_id}", tags=["index"], summary="Remove a source (with --writable); saved atomically.",
                responses=write_errors | {404: _error("No such source.")})
    async def remove_source(source_id: str):
        _ready(service)
        return _json(asdict(await service.call(service.write, service.store.remove, source_id)))


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split("text/html")[0]


def openapi_document(app: FastAPI | None = None) -> dict:
    """The OpenAPI document of the service, with the article report schema and the bearer scheme."""
    from detector import __version__
    from detector.schema import report_schema

    app = app or create_app(ServeSettings(index="index"))
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(title=TITLE, version=__version__, description=app.description, routes=app.routes)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    report = report_schema()
    for name, definition in report.pop("$defs", {}).items():
        schemas[f"Report_{name}"] = _rewrite_refs(definition)
    schemas["ArticleReport"] = _rewrite_refs({k: v for k, v in report.items() if k not in ("$schema", "$id")})
    schemas["Error"] = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                "description": "Required when the server was started with a token."}}
    for path, operations in document["paths"].items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                operation["security"] = [{"bearer": []}]
    app.openapi_schema = document
    return document


def _rewrite_refs(schema):
    """The report schema's ``#/$defs/x`` references, pointed at ``#/components/schemas/Report_x``."""
    text = re.sub(r'"#/\$defs/(\w+)"', r'"#/components/schemas/Report_\1"', json.dumps(schema))
    return json.loads(text)
