"""Every example in docs/ecosystem.md (the README's scikit-learn / ONNX / serving sections) runs
as written: Python blocks in one namespace, in order; console blocks as real commands, with
`layerwise serve` started in the background on a free loopback port instead of 8000."""

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

DOC = Path(__file__).resolve().parents[1] / "docs" / "ecosystem.md"
DOC_URL = "http://127.0.0.1:8000"


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w+)\n(.*?)```", text, flags=re.S)


def _start_server(command: list[str]) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    process = subprocess.Popen([sys.executable, "-m", "layerwise", *command[1:], "--port", "0",
                                "--log-level", "warning"], env=env, stdout=subprocess.PIPE, text=True)
    first = process.stdout.readline()  # "serving runs/iris on http://127.0.0.1:PORT ..."
    url = first.split(" on ", 1)[1].split()[0]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        time.sleep(0.1)
    process.kill()
    raise AssertionError("layerwise serve from the docs did not come up")


def _run_console(block: str, url: str, cwd: Path, servers: list) -> str:
    """Run each `$ ` line; returns the server URL once `layerwise serve` has started."""
    for line in block.splitlines():
        if not line.startswith("$ "):
            continue
        command = shlex.split(line[2:].replace(DOC_URL, url or DOC_URL))
        if command[:2] == ["layerwise", "serve"]:
            process, url = _start_server(command)
            servers.append(process)
            continue
        if command[0] == "curl" and shutil.which("curl") is None:
            continue
        if command[0] == "layerwise":
            command = [sys.executable, "-m", "layerwise", *command[1:]]
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return url


def test_every_example_in_docs_ecosystem_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    servers: list = []
    namespace: dict = {"__name__": "__docs__"}
    url = ""
    try:
        for language, block in _blocks(DOC.read_text(encoding="utf-8")):
            if language == "console":
                url = _run_console(block, url, tmp_path, servers)
            elif language == "python":
                code = block.replace(DOC_URL, url or DOC_URL)
                with contextlib.redirect_stdout(io.StringIO()) as printed:
                    exec(compile(code, str(DOC), "exec"), namespace)
                assert printed.getvalue().strip(), f"example printed nothing:\n{block}"
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()
    assert url.startswith("http://127.0.0.1:"), "the serving examples did not run"
    assert (tmp_path / "iris.onnx").is_file() and (tmp_path / "fruit.onnx").is_file()
