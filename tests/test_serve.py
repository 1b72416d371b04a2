"""`layerwise serve` as users run it: a real uvicorn process on a free loopback port, called with a
real HTTP client. Answers are checked against `layerwise.load(run).predict*` on the same rows;
wrong input must be a 422 naming the field, oversize input a 413; a bounded concurrent load must
see no errors; schemathesis must find nothing against the server's own OpenAPI schema.
Only 127.0.0.1 is ever contacted."""

import collections
import concurrent.futures
import copy
import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Optional

import httpx
import numpy as np
import pandas as pd
import pytest
import schemathesis
from hypothesis import settings
from hypothesis import strategies as st

import layerwise
from helpers import assert_user_error, mixed_table, run_cli
from layerwise.serve import loopback

MAX_ROWS = 50  # the servers below run with --max-rows 50, so a 413 is cheap to provoke


class Served:
    """`python -m layerwise serve RUN --port 0 ...` in a subprocess; `.url` once it answers."""

    def __init__(self, run_dir, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        self.process = subprocess.Popen([sys.executable, "-m", "layerwise", "serve", str(run_dir), "--port", "0",
                                         "--log-level", "warning", *map(str, args)], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=60)  # "serving RUN on http://127.0.0.1:PORT  (docs: ...)"
        except queue.Empty:
            self.stop()
            raise AssertionError("layerwise serve printed nothing within 60 s") from None
        assert first.startswith("serving "), first + self.process.stderr.read()
        self.url = first.split(" on ", 1)[1].split()[0]
        assert self.url.startswith("http://127.0.0.1:"), self.url  # loopback unless told otherwise
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("server did not become healthy in 30 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture(scope="module")
def table_server(table_run):
    served = Served(table_run.dir, "--max-rows", MAX_ROWS, "--max-body-mb", 0.01)  # 10 KiB bodies
    yield served.url
    served.stop()


@pytest.fixture(scope="module")
def client(table_server):
    with httpx.Client(base_url=table_server, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def rows():
    """New rows with every kind of value: numbers, gaps (None), known/unknown/missing colours."""
    table = mixed_table(n=12, seed=5).drop(columns="label")
    table.loc[3, "colour"] = "purple"  # never seen in training: an all-zero one-hot block
    return table.astype(object).where(table.notna(), None)


def test_health_and_model_describe_the_run(client, table_run):
    assert client.get("/health").json() == {"status": "ok"}
    info = client.get("/model").json()
    predictor = layerwise.load(table_run.dir)
    assert info["task"] == "binary" and info["classes"] == ["raw", "ripe"]
    assert info["input_columns"] == ["size", "weight", "colour"]
    assert info["categorical"] == {"colour": ["blue", "green", "red"]}
    assert info["network"] == predictor.meta["network"] and info["config"]["network"]["hidden"] == [16]
    assert info["limits"] == {"max_rows": MAX_ROWS, "max_body_bytes": int(0.01 * 2**20)}
    assert client.get("/docs").status_code == 200 and "/predict" in client.get("/openapi.json").json()["paths"]


def test_records_and_rows_answer_what_the_predictor_answers(client, table_run, rows):
    predictor = layerwise.load(table_run.dir)
    frame = pd.DataFrame(rows)
    want_labels, want_proba = predictor.predict(frame), predictor.predict_proba(frame)
    by_records = client.post("/predict", json={"records": rows.to_dict(orient="records")})
    by_rows = client.post("/predict", json={"rows": rows.values.tolist()})
    for response in (by_records, by_rows):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["predictions"] == list(want_labels) and body["classes"] == ["raw", "ripe"]
        np.testing.assert_allclose(body["probabilities"], want_proba, rtol=0, atol=1e-12)


def test_extra_keys_are_ignored_with_a_warning_as_predict_does(client, table_run, rows, tmp_path):
    records = rows.to_dict(orient="records")
    for record in records:
        record["shape"] = "round"
    response = client.post("/predict", json={"records": records})
    assert response.status_code == 200, response.text
    said = response.json()["warnings"]
    assert said[0] == "records: ignoring 1 column(s) the model does not use: shape"
    assert "column 'colour': 1 row(s) have a category never seen in training ('purple')" in said[1]
    assert response.json()["predictions"] == list(layerwise.load(table_run.dir).predict(pd.DataFrame(rows)))
    rows.assign(shape="round").to_csv(tmp_path / "new.csv", index=False)
    done = subprocess.run([sys.executable, "-m", "layerwise", "predict", str(table_run.dir), "--input",
                           str(tmp_path / "new.csv")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and f"warning: {tmp_path / 'new.csv'}: ignoring 1 column(s) the model does not use: shape" \
        in done.stderr


def test_regression_run_answers_values(regression_run):
    served = Served(regression_run.dir)
    try:
        predictor = layerwise.load(regression_run.dir)
        columns = predictor.preprocessor.input_columns
        X = np.random.default_rng(0).normal(0, 0.05, size=(5, len(columns)))
        body = httpx.post(f"{served.url}/predict", json={"rows": X.tolist()}, timeout=10).json()
        np.testing.assert_allclose(body["predictions"], predictor.predict(pd.DataFrame(X, columns=columns)),
                                   rtol=1e-6)
        assert body["targets"] == predictor.meta["targets"]
    finally:
        served.stop()


@pytest.mark.parametrize("body, where", [
    ({"records": [{"size": 9.0, "weight": 50.0}]}, ["body", "records", "records", 0, "colour"]),
    ({"records": [{"size": float("nan"), "weight": 50.0, "colour": "red"}]}, ["body", "records", "records", 0, "size"]),
    ({"rows": [[9.0, float("inf"), "red"]]}, ["body", "rows", "rows", 0, 1]),
    ({"records": [{"size": "big", "weight": 50.0, "colour": "red"}]}, ["body", "records", "records", 0, "size"]),
    ({"records": [{"size": 9.0, "weight": 50.0, "colour": 3}]}, ["body", "records", "records", 0, "colour"]),
    ({"rows": [[9.0, 50.0]]}, ["body", "rows", "rows", 0, 2]),
    ({"rows": [[9.0, "heavy", "red"]]}, ["body", "rows", "rows", 0, 1]),
    ({"rows": []}, ["body", "rows", "rows"]),
    ({"columns": [[1, 2, 3]]}, ["body"]),
    ({"rows": [[1e16, 50.0, "red"]]}, ["body", "rows", "rows", 0, 0]),  # |x| <= 1e15 keeps float32 finite
])
def test_bad_input_is_422_naming_the_field(client, body, where):
    # NaN/Infinity are written as JSON's non-standard tokens, which Python's reader accepts
    response = client.post("/predict", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == where, detail
    assert detail["msg"]


def test_oversize_batches_and_bodies_are_413(client):
    row = [9.0, 50.0, "red"]
    assert client.post("/predict", json={"rows": [row] * MAX_ROWS}).status_code == 200
    too_many = client.post("/predict", json={"rows": [row] * (MAX_ROWS + 1)})
    assert too_many.status_code == 413 and f"at most {MAX_ROWS}" in too_many.json()["detail"]
    big = b'{"rows": [' + b",".join([b'[9.0, 50.0, "red"]'] * 1000) + b"]}"  # ~19 KB > 10 KiB
    declared = client.post("/predict", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    chunks = (big[i:i + 1024] for i in range(0, len(big), 1024))  # no Content-Length: counted as it streams
    streamed = client.post("/predict", content=chunks, headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_concurrent_load_has_no_errors(client, table_server, rows, capsys):
    """8 workers x 200 requests of one record each, every answer checked; latencies printed."""
    records = rows.to_dict(orient="records")
    expected = {i: client.post("/predict", json={"records": [r]}).json() for i, r in enumerate(records)}

    def worker(seed: int) -> list[float]:
        latencies = []
        with httpx.Client(base_url=table_server, timeout=10) as http:
            for k in range(200):
                i = (seed + k) % len(records)
                started = time.perf_counter()
                response = http.post("/predict", json={"records": [records[i]]})
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200 and response.json() == expected[i], response.text
        return latencies

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        latencies = np.concatenate(list(pool.map(worker, range(8), timeout=120)))
    seconds = time.perf_counter() - started
    assert len(latencies) == 1600
    p50, p99 = np.percentile(latencies, [50, 99]) * 1000
    with capsys.disabled():
        print(f"\nserve load: 8 workers x 200 requests, 0 errors, {1600 / seconds:.0f} req/s, "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_finds_nothing_against_the_openapi_schema(table_server, mode):
    """Every operation, schema-valid cases (must be answered 2xx, in the documented shape) and
    schema-violating ones (must be rejected 4xx, never a 500). schemathesis' pytest plugin does
    not run under pytest 9 (`Function._nodeid`), so its strategies are driven by hypothesis here."""
    from hypothesis import HealthCheck, given
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_url(f"{table_server}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {"POST /predict", "GET /model", "GET /health"}
    for operation in operations:
        if mode == "negative" and operation.method.upper() == "GET":
            continue  # no parameters, so no schema-violating request exists

        @given(case=operation.as_strategy(GenerationMode(mode)))
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(base_url=table_server, timeout=10)
            if mode == "negative" and response.status_code == 413:
                return  # an oversize body is refused before it is parsed: a documented rejection
            case.validate_response(response)

        check()


# Hostile twists on schemathesis' valid requests: JSON's non-finite tokens and huge numbers,
# deep nesting, lone surrogates and content types other than JSON. Any answer but a 5xx will do.
HOSTILE_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400, "1e308", "-0.0", "5e-324"]
CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/xml", None, "application/json; charset=utf-16", "application/vnd.api+json"]


@st.composite
def hostile_twists(draw):
    """A function body(dict) -> (bytes, content type)."""
    kind = draw(st.sampled_from(["number", "nested", "content_type", "surrogate"]))
    token = draw(st.sampled_from(HOSTILE_NUMBERS))
    depth = draw(st.sampled_from([10, 200, 1500]))  # 1500 levels: past json's recursion limit, under 10 KiB
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    which = draw(st.integers(0, 2))

    def twist(body: dict) -> tuple[bytes, Optional[str]]:
        body = copy.deepcopy(body)
        rows = body.get("records") or body.get("rows") or [[]]
        row = rows[0] if rows else {}
        keys = list(row) if isinstance(row, dict) else list(range(len(row)))
        marker = "\u0000twist\u0000"
        if keys and kind in ("number", "nested", "surrogate"):
            row[keys[which % len(keys)]] = marker
        text = json.dumps(body)
        value = {"number": token, "surrogate": '"\\ud800"',
                 "nested": "[" * depth + "1" + "]" * depth}.get(kind, '"x"')
        text = text.replace(json.dumps(marker), value)
        if kind == "nested" and not keys:
            text = "[" * depth + text + "]" * depth
        if kind == "content_type":
            encoded = text.encode("utf-16") if content_type and "utf-16" in content_type else text.encode()
            return encoded, content_type
        return text.encode(), "application/json"

    return twist


def test_schemathesis_with_hostile_values_and_content_types_gets_no_5xx(table_server):
    from hypothesis import HealthCheck, given
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_url(f"{table_server}/openapi.json")
    predict = next(result.ok() for result in schema.get_all_operations() if result.ok().label == "POST /predict")
    statuses = collections.Counter()

    @given(case=predict.as_strategy(GenerationMode.POSITIVE), twist=hostile_twists())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case, twist):
        raw, content_type = twist(case.body)
        headers = {"content-type": content_type} if content_type else {}
        response = httpx.post(f"{table_server}/predict", content=raw, headers=headers, timeout=10)
        statuses[response.status_code] += 1
        assert response.status_code < 500, (raw[:300], content_type, response.text[:300])

    check()
    assert sum(n for code, n in statuses.items() if code >= 400) > 0, statuses  # the twists did reach the server


def test_cli_refuses_a_missing_run_and_a_taken_port(tmp_path, table_run):
    assert_user_error(run_cli(["serve", tmp_path / "nope"]), "nope")
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert_user_error(run_cli(["serve", table_run.dir, "--port", port]), f"--port {port}")


def test_loopback_addresses():
    assert loopback("127.0.0.1") and loopback("::1") and loopback("localhost")
    assert not loopback("0.0.0.0") and not loopback("192.168.1.5") and not loopback("example.org")


def test_missing_serve_extra_is_a_one_line_hint(monkeypatch, table_run):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert_user_error(run_cli(["serve", table_run.dir]), "uvicorn", "layerwise[serve]")
