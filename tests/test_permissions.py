"""Files layerwise writes (run directory, predictions, exports) get the permissions the umask
says, like any other program's files: 0644 at umask 022, not mkstemp's 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_files_follow_the_umask(tmp_path, umask) -> None:
    def run(*args):
        done = subprocess.run([sys.executable, "-m", "layerwise", *map(str, args)], capture_output=True, text=True,
                              timeout=180, preexec_fn=lambda: os.umask(umask))
        assert done.returncode == 0, done.stderr

    run("train", "--data", "builtin:iris", "--hidden", 3, "--epochs", 1, "--quiet", "--out", tmp_path / "run")
    run("predict", tmp_path / "run", "--input", "builtin:iris", "-o", tmp_path / "predictions.csv")
    written = [p for p in (tmp_path / "run").iterdir() if p.is_file()] + [tmp_path / "predictions.csv"]
    assert len(written) > 8
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name
