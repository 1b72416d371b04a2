"""Optional download of MNIST / Fashion-MNIST IDX files, where a network exists.

Training never downloads anything: `mnist:DIR` reads files already on disk. This fetches them
once, checks each file's MD5 against the published value, and writes atomically, so an
interrupted download leaves no half file that `mnist:DIR` would trust.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..artifacts import atomic_write_bytes
from ..errors import LayerwiseError

# The mirrors torchvision uses, with the files' published MD5 sums.
SETS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }),
}


def download(name: str, directory: str | Path, base_url: str | None = None, timeout: float = 30.0) -> Path:
    """Fetch the four IDX files of `name` into `directory`; files already there and intact are kept."""
    if name not in SETS:
        raise LayerwiseError(f"unknown download '{name}'; expected one of {', '.join(SETS)}")
    url, files = SETS[name]
    url = base_url or url
    directory = Path(directory)
    created = [parent for parent in (directory, *directory.parents) if not parent.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    try:
        _fetch_missing(url, files, directory, timeout)
    except LayerwiseError:
        for folder in created:  # a failed first download leaves no empty folders behind
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    return directory


def _fetch_missing(url: str, files: dict, directory: Path, timeout: float) -> None:
    """Each file not already in `directory` with its published MD5, fetched and written atomically."""
    import urllib.error
    import urllib.request

    for filename, md5 in files.items():
        target = directory / filename
        if target.is_file() and hashlib.md5(target.read_bytes()).hexdigest() == md5:
            continue
        try:
            with urllib.request.urlopen(url + filename, timeout=timeout) as response:
                data = response.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise LayerwiseError(f"download {url + filename}: {reason} (no network? copy the IDX files into "
                                 f"{directory} by hand)") from None
        if hashlib.md5(data).hexdigest() != md5:
            raise LayerwiseError(f"download {url + filename}: checksum mismatch; the file was not saved")
        atomic_write_bytes(target, data)
