"""Issue 38: `spin-detect serve`, a real uvicorn process on a free port, called with a real HTTP client.

The servers run a tiny random classifier (with the bundled sentence encoder, which the index is
built with) over an index of the clean seeds 003 and 004 and one short source.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from detector.schema import SCHEMA_VERSION, validate_report  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TOKEN = "s3cret-token"
SHORT = "The ministers met in Brussels on Monday. They agreed a plan to admit new members."
START_TIMEOUT = 90


@pytest.fixture(scope="module")
def served_files(tmp_path_factory, tiny_parts, seed_texts) -> dict:
    """A tiny classifier folder, a seed index built with the bundled encoder, and a token file."""
    from detector.encoder import SentenceEncoder
    from detector.index import SourceIndex

    folder = tmp_path_factory.mktemp("serve")
    tiny_parts["scorer"].save(folder / "model")
    documents = [{"id": key, "text": seed_texts[key]} for key in ("003", "004")] + [{"id": "src-1", "text": SHORT}]
    SourceIndex.build(documents, encoder=SentenceEncoder.load()).save(folder / "index")
    (folder / "token").write_text(TOKEN + "\n")
    return {"model": folder / "model", "index": folder / "index", "token": folder / "token", "folder": folder}


class Server:
    """A `python -m detector.cli serve` process on a free port; ``stop()`` kills it if still running."""

    def __init__(self, files: dict, *options: str, index: Path | None = None, env: dict | None = None):
        self.port = _free_port()
        command = [sys.executable, "-m", "detector.cli", "serve", "--index", str(index or files["index"]),
                   "--model", str(files["model"]), "--port", str(self.port), *options]
        self.log = files["folder"] / f"server-{self.port}.log"
        environment = {key: value for key, value in os.environ.items() if key != "SPIN_DETECTOR_TOKEN"}
        environment |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> "Server":
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited early:\n{self.output()}"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server was not ready within {START_TIMEOUT} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(served_files):
    """A writable server with a token and small limits, on a copy of the index."""
    index = served_files["folder"] / "writable-index"
    shutil.copytree(served_files["index"], index)
    running = Server(served_files, "--writable", "--token-file", str(served_files["token"]), "--host", "127.0.0.1",
                     "--max-body-bytes", "400000", "--max-batch-articles", "3", "--max-sentences", "4", index=index)
    try:
        yield running.wait_ready()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
        yield http


def error_of(response) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]["message"]


def test_health_readiness_and_versions(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "documents": 3}
    version = client.get("/v1/version").json()
    assert version["package"] and version["report_schema"] == SCHEMA_VERSION
    assert version["model"]["fingerprint"].startswith("sha256:") and version["model"]["precision"] == "fp32"
    assert version["index"]["documents"] == 3 and version["index"]["writable"] is True


def test_analyze_answers_with_a_valid_report_and_html_on_request(client, seed_texts):
    response = client.post("/v1/analyze", json={"text": seed_texts["000"], "id": "000"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    report = response.json()
    validate_report(report)
    assert report["article_id"] == "000" and report["source_given"] is True
    assert {doc_id for doc_id, _ in report["candidates"]} <= {"003", "004", "src-1"}
    page = client.post("/v1/analyze", json={"text": seed_texts["000"]}, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and page.text.lstrip().startswith("<!DOCTYPE html>")


def test_a_batch_gives_one_report_per_article_in_order(client, seed_texts):
    articles = [{"text": seed_texts["003"], "id": "003"}, {"text": SHORT, "exclude_quotations": True}, {"text": ""}]
    reports = client.post("/v1/analyze/batch", json={"articles": articles}).json()["reports"]
    assert [report["article_id"] for report in reports] == ["003", None, None]
    for report in reports:
        validate_report(report)
    assert "003" not in [doc_id for doc_id, _ in reports[0]["candidates"]]  # its own id is never its candidate
    assert reports[2]["sentences"] == [] and client.post("/v1/analyze/batch", json={"articles": []}).json() == {"reports": []}


def test_concurrent_requests_get_their_own_reports(client, seed_texts):
    texts = [seed_texts[key] for key in ("000", "001", "002")] * 2
    results = [None] * len(texts)

    def post(position):
        results[position] = client.post("/v1/analyze", json={"text": texts[position], "id": f"a{position}"}).json()

    threads = [threading.Thread(target=post, args=(position,)) for position in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [report["article_id"] for report in results] == [f"a{position}" for position in range(len(texts))]
    assert results[0]["sentences"] == results[3]["sentences"]


def test_score_and_compare(client):
    scores = client.post("/v1/score", json={"sentences": ["NATO met in Brussels.", "Members confess."]}).json()["scores"]
    assert [score["text"] for score in scores] == ["NATO met in Brussels.", "Members confess."]
    assert all(0.0 <= score["spun_probability"] <= 1.0 and isinstance(score["is_spun"], bool) for score in scores)
    pair = client.post("/v1/compare", json={"source": "The alliance should not admit new members.",
                                            "suspect": "The alliance should not confess new participants."}).json()
    assert pair["relation"] in ("copy", "spun", "paraphrase", "unrelated") and ["admit", "confess"] in pair["substitutions"]


def test_sources_are_read_added_and_removed(client, served_files):
    from detector.index import SourceIndex

    assert client.get("/v1/sources/src-1").json() == {"id": "src-1", "text": SHORT, "meta": {}, "sentences": 2}
    added = client.post("/v1/sources", json={"id": "new", "text": "Officials in Lyon opened a bridge.", "meta": {"k": 1}})
    assert added.status_code == 201 and added.json() == {"id": "new", "documents": 4}
    assert SourceIndex.load(served_files["folder"] / "writable-index").ids == ["003", "004", "src-1", "new"]
    assert client.get("/v1/version").json()["index"]["documents"] == 4
    assert client.post("/v1/sources", json={"id": "new", "text": "Again."}).status_code == 409
    assert client.delete("/v1/sources/new").json() == {"id": "new", "documents": 3}
    assert client.get("/v1/sources/new").status_code == 404
    assert "nothing removed" in error_of(client.delete("/v1/sources/new"))
    assert SourceIndex.load(served_files["folder"] / "writable-index").ids == ["003", "004", "src-1"]


def test_every_v1_route_needs_the_bearer_token_and_health_does_not(server):
    calls = [("GET", "/v1/version"), ("POST", "/v1/analyze"), ("POST", "/v1/analyze/batch"), ("POST", "/v1/score"),
             ("POST", "/v1/compare"), ("GET", "/v1/sources/src-1"), ("POST", "/v1/sources"), ("DELETE", "/v1/sources/src-1")]
    for method, path in calls:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = httpx.request(method, server.url + path, headers=headers, json={})
            assert response.status_code == 401, (method, path)
            assert "Authorization: Bearer <token>" in error_of(response)
            assert response.headers["www-authenticate"] == "Bearer"
    assert httpx.get(server.url + "/healthz").status_code == 200 and httpx.get(server.url + "/readyz").status_code == 200


BAD_REQUESTS = [
    ("malformed JSON", "/v1/analyze", {"content": b'{"text": "no end'}, 400, "not valid JSON"),
    ("a body that is not UTF-8", "/v1/analyze", {"content": b'{"text": "caf\xe9"}'}, 400, "not UTF-8"),
    ("not sent as JSON", "/v1/analyze", {"content": b"text=hello", "headers": {"Content-Type": "text/plain"}}, 415,
     "Content-Type: application/json"),
    ("a number for the text", "/v1/analyze", {"json": {"text": 42}}, 422, "text: Input should be a valid string"),
    ("no text", "/v1/analyze", {"json": {}}, 422, "text: Field required"),
    ("an unknown key", "/v1/analyze", {"json": {"text": "x", "txt": "y"}}, 422, "txt: Extra inputs are not permitted"),
    ("a list for the body", "/v1/analyze", {"json": ["x"]}, 422, "body: Input should be a valid dictionary"),
    ("one string for the sentences", "/v1/score", {"json": {"sentences": "one"}}, 422, "sentences: Input should be a valid list"),
    ("a string for exclude_quotations", "/v1/analyze", {"json": {"text": "x", "exclude_quotations": "yes"}}, 422,
     "exclude_quotations: Input should be a valid boolean"),
    ("a wrong type in a batch", "/v1/analyze/batch", {"json": {"articles": [{"text": "x"}, {"text": None}]}}, 422,
     r"articles[1].text: Input should be a valid string"),
    ("an empty source id", "/v1/sources", {"json": {"id": "", "text": "x"}}, 422, "id: String should have at least 1 character"),
    ("a body over the size limit", "/v1/analyze", {"json": {"text": "word " * 90_000}}, 413, "over the limit of 400,000"),
    ("an article over the library's character limit", "/v1/analyze", {"json": {"text": "a" * 200_001}}, 413,
     "200,001 characters, over the limit of 200,000"),
    ("too many articles in a batch", "/v1/analyze/batch", {"json": {"articles": [{"text": "x"}] * 4}}, 413,
     "4 articles, over the limit of 3"),
    ("too many sentences", "/v1/score", {"json": {"sentences": ["x"] * 5}}, 413, "5 sentences, over the limit of 4"),
]


@pytest.mark.parametrize(("name", "path", "request_options", "status", "message"), BAD_REQUESTS, ids=[r[0] for r in BAD_REQUESTS])
def test_a_bad_request_is_a_clear_4xx_json_error(client, name, path, request_options, status, message):
    response = client.post(path, **request_options)
    assert response.status_code == status and response.headers["content-type"] == "application/json"
    assert message in error_of(response)


def test_unknown_routes_and_methods_are_json_errors_too(client):
    assert client.get("/v1/nothing").status_code == 404 and error_of(client.get("/v1/nothing")) == "Not Found"
    assert client.get("/v1/analyze").status_code == 405 and error_of(client.get("/v1/analyze")) == "Method Not Allowed"


def test_the_committed_openapi_document_is_the_apps(client):
    """docs/openapi.json is written by `spin-detect serve --openapi > docs/openapi.json`."""
    from detector.serve.app import openapi_document

    committed = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_document() == client.get("/openapi.json").json()
    assert committed["components"]["schemas"]["ArticleReport"]["required"]


def test_sigterm_drains_the_request_in_flight_and_exits_cleanly(server, seed_texts):
    """Runs last on the module's server: a long batch is in flight when SIGTERM arrives."""
    articles = [{"text": "\n".join([seed_texts[key]] * 8)} for key in ("000", "001", "002")]
    answer: dict = {}

    def post():
        answer["response"] = httpx.post(f"{server.url}/v1/analyze/batch", json={"articles": articles}, timeout=120,
                                        headers={"Authorization": f"Bearer {TOKEN}"})

    thread = threading.Thread(target=post)
    thread.start()
    time.sleep(0.5)
    start = time.perf_counter()
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert time.perf_counter() - start < 1.0  # the model thread never blocks the event loop
    server.process.send_signal(signal.SIGTERM)
    thread.join(120)
    assert answer["response"].status_code == 200 and len(answer["response"].json()["reports"]) == 3
    assert server.process.wait(60) == 0
    assert "Waiting for connections to close" in server.output() or "Finished server process" in server.output()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/healthz", timeout=2)


def test_a_server_without_a_token_binds_to_localhost_and_refuses_writes(served_files, seed_texts):
    running = Server(served_files, "--batch-wait-ms", "1500", "--request-timeout", "0.5")
    try:
        running.wait_ready()
        assert "Uvicorn running on http://127.0.0.1:" in running.output()
        response = httpx.post(f"{running.url}/v1/sources", json={"id": "x", "text": "Some text."})
        assert response.status_code == 403 and "--writable" in error_of(response)
        assert httpx.delete(f"{running.url}/v1/sources/src-1").status_code == 403
        slow = httpx.post(f"{running.url}/v1/analyze", json={"text": SHORT})
        assert slow.status_code == 408 and "--request-timeout" in error_of(slow)
        assert httpx.get(f"{running.url}/v1/sources/src-1").json()["id"] == "src-1"
    finally:
        running.stop()


def test_a_token_from_the_environment_opens_all_interfaces_and_a_missing_index_is_one_line(served_files, monkeypatch):
    """The token may come from $SPIN_DETECTOR_TOKEN instead of --token-file; with one, the default host is 0.0.0.0."""
    from click.testing import CliRunner

    from detector.cli import main
    from detector.cli.serve import serve_settings

    limits = {"max_body_bytes": 1, "max_batch_articles": 1, "max_sentences": 1, "request_timeout_s": 1.0}
    monkeypatch.delenv("SPIN_DETECTOR_TOKEN", raising=False)
    settings = serve_settings(str(served_files["index"]), **limits)
    assert settings.token is None and settings.bind_host == "127.0.0.1"
    monkeypatch.setenv("SPIN_DETECTOR_TOKEN", "from-env")
    settings = serve_settings(str(served_files["index"]), **limits)
    assert settings.token == "from-env" and settings.bind_host == "0.0.0.0"
    result = CliRunner().invoke(main, ["serve", "--index", str(served_files["folder"] / "missing")])
    assert result.exit_code == 1 and "no index folder at" in result.output


def test_kill_9_during_and_after_a_write_leaves_an_index_that_loads(served_files):
    """A write answered, then another killed midway: the folder loads (what a restart does) and holds
    the first write, and the second one whole or not at all."""
    from detector.index import SourceIndex

    index = served_files["folder"] / "killed-index"
    shutil.copytree(served_files["index"], index)
    running = Server(served_files, "--writable", index=index).wait_ready()
    try:
        added = httpx.post(f"{running.url}/v1/sources", json={"id": "after", "text": "A bridge opened in Lyon."})
        assert added.status_code == 201
        thread = threading.Thread(target=lambda: _quietly(httpx.post, f"{running.url}/v1/sources",
                                                         json={"id": "mid-write", "text": SHORT.replace("Brussels", "Oslo")}))
        thread.start()
        time.sleep(0.1)
        running.process.kill()
        thread.join(30)
        running.process.wait(10)
    finally:
        running.stop()
    ids = SourceIndex.load(index).ids
    assert ids in (["003", "004", "src-1", "after"], ["003", "004", "src-1", "after", "mid-write"])
    assert not list(index.parent.glob(".killed-index.*"))  # a killed save's staging folder is gone after the load


def _quietly(function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except httpx.TransportError:
        pass


def test_the_micro_batcher_gathers_concurrent_requests_into_one_run_and_fails_only_the_bad_one():
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from detector.serve.batching import MicroBatcher

    runs = []

    def run(items):
        runs.append(list(items))
        return [ValueError(f"bad {item}") if item < 0 else item * 10 for item in items]

    async def scenario():
        batcher = MicroBatcher(run, ThreadPoolExecutor(1), wait_s=0.05, max_items=4)
        batcher.start()
        results = await asyncio.gather(batcher.submit([1]), batcher.submit([2, 3]), batcher.submit([-1]),
                                       batcher.submit([4, 5]), return_exceptions=True)
        await batcher.stop()
        return results

    results = asyncio.run(scenario())
    assert results[:2] == [[10], [20, 30]] and isinstance(results[2], ValueError) and results[3] == [40, 50]
    assert runs == [[1, 2, 3, -1], [4, 5]]  # four items a run at most; a request is never split


def test_the_service_warms_every_stage_up_before_it_says_ready_issue_38(served_files):
    """The first analysis loads lemma tables and imports modules while holding the GIL; done on the
    first requests, that stalled the health checks under load."""
    from detector.fingerprint import load_common_words
    from detector.relation import _lemmas
    from detector.serve.app import Service
    from detector.serve.config import ServeSettings

    _lemmas.cache_clear()
    load_common_words.cache_clear()
    service = Service(ServeSettings(index=served_files["index"], model=served_files["model"]))
    assert not service.ready
    service.load()
    assert service.ready
    assert _lemmas.cache_info().currsize > 0 and load_common_words.cache_info().currsize == 1


def test_the_loaded_model_and_index_are_frozen_out_of_the_garbage_collector_issue_38(served_files):
    """A full collection over them held the GIL long enough to give the load test's slowest health checks."""
    import gc

    from detector.serve.app import Service
    from detector.serve.config import ServeSettings

    gc.unfreeze()
    Service(ServeSettings(index=served_files["index"], model=served_files["model"])).load()
    try:
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_served_detector_refuses_articles_at_the_served_character_limit(served_files):
    """The route's 413 and the library's own check read one limit (`Limits.max_chars`)."""
    import gc

    from detector.serve.app import Service
    from detector.serve.config import Limits, ServeSettings

    service = Service(ServeSettings(index=served_files["index"], model=served_files["model"], limits=Limits(max_chars=5000)))
    service.load()
    try:
        assert service.detector.max_chars == 5000
    finally:
        gc.unfreeze()
