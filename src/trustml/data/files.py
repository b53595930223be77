"""Locate, download and verify dataset files under a data root.

Layout (torchvision's): `<root>/MNIST/raw/<file>`, `<root>/FashionMNIST/raw/<file>`,
CIFAR-10 in its official binary layout `<root>/cifar-10-batches-bin/<file>`.
Each file may be stored plain or gzip-compressed (`<file>.gz`); the SHA-256 of the
uncompressed bytes is checked against `checksums.SHA256_RAW` on every read.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from trustml.core.errors import ChecksumError, DataError
from trustml.data.checksums import SHA256_RAW

ENV_ROOT = "TRUSTML_DATA"
ENV_OFFLINE = "TRUSTML_OFFLINE"
DEFAULT_ROOT = Path("data")
DOWNLOAD_TIMEOUT_S = 30

# The mirrors torchvision uses, in its order.
IDX_MIRRORS: dict[str, tuple[str, ...]] = {
    "MNIST": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "FashionMNIST": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"

HINT = (
    "Set TRUSTML_DATA to a folder that holds the datasets in torchvision's layout "
    "(for this project's machines: TRUSTML_DATA=../shared/data), or pass root=..."
)


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data root: `root` if given, else `$TRUSTML_DATA`, else `./data`."""
    if root is not None:
        return Path(root)
    env = os.environ.get(ENV_ROOT)
    return Path(env) if env else DEFAULT_ROOT


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_verified(relpath: str, root: str | os.PathLike[str] | None = None) -> bytes:
    """Uncompressed, checksum-verified bytes of `relpath` (a key of `SHA256_RAW`).

    Reads `<root>/<relpath>` or `<root>/<relpath>.gz`; downloads the official file
    when neither exists (unless `TRUSTML_OFFLINE=1`).
    """
    if relpath not in SHA256_RAW:
        raise DataError(f"{relpath!r} is not a known dataset file")
    base = data_root(root)
    path = _find(base, relpath)
    if path is None:
        path = download(relpath, base)
    raw = _read_uncompressed(path)
    expected, actual = SHA256_RAW[relpath], sha256_hex(raw)
    if actual != expected:
        raise ChecksumError(
            f"{path}: SHA-256 of the uncompressed bytes is {actual}, expected {expected}. "
            "The file is corrupt or not the official one: delete it so it is downloaded "
            f"again, or point {ENV_ROOT} at a verified copy."
        )
    return raw


def _find(base: Path, relpath: str) -> Path | None:
    for candidate in (base / relpath, base / f"{relpath}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_uncompressed(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the dataset file {path} ({exc.strerror or exc}); "
                        "make it readable, or point TRUSTML_DATA at a readable copy") from exc
    if path.suffix != ".gz":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as exc:  # BadGzipFile is an OSError
        raise DataError(
            f"{path}: not a valid gzip file ({exc}); delete it so it is downloaded again"
        ) from exc


def download(relpath: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Fetch the official copy of `relpath`, verify it, and write it atomically.

    Returns the path written. Raises `DataError` (with what to do) when offline.
    """
    base = data_root(root)
    folder, name = relpath.split("/raw/") if "/raw/" in relpath else relpath.split("/", 1)
    if os.environ.get(ENV_OFFLINE, "") not in ("", "0"):
        raise _missing(base, relpath, f"downloads are disabled ({ENV_OFFLINE} is set)")
    errors: list[str] = []
    if folder in IDX_MIRRORS:
        for mirror in IDX_MIRRORS[folder]:
            url = f"{mirror}{name}.gz"
            try:
                payload = _fetch(url)
                raw = gzip.decompress(payload)
            except (urllib.error.URLError, OSError, EOFError) as exc:
                errors.append(f"{url}: {exc}")
                continue
            if sha256_hex(raw) != SHA256_RAW[relpath]:
                errors.append(f"{url}: checksum mismatch")
                continue
            target = base / f"{relpath}.gz"
            atomic_write_bytes(target, payload)
            return target
    elif folder == "cifar-10-batches-bin":
        try:
            _download_cifar10(base)
            return base / relpath
        except (urllib.error.URLError, OSError, EOFError, tarfile.TarError, DataError) as exc:
            errors.append(f"{CIFAR10_URL}: {exc}")
    raise _missing(base, relpath, "; ".join(errors) or "no mirror known")


def _missing(base: Path, relpath: str, why: str) -> DataError:
    return DataError(
        f"Dataset file {relpath} (or {relpath}.gz) not found under {base.resolve()}, "
        f"and it could not be downloaded: {why}. {HINT}"
    )


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310
        return response.read()


def _download_cifar10(base: Path) -> None:
    payload = _fetch(CIFAR10_URL)
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as archive:
        for member in archive.getmembers():
            relpath = member.name.lstrip("./")
            if relpath not in SHA256_RAW:
                continue
            extracted = archive.extractfile(member)
            if extracted is None:
                continue
            raw = extracted.read()
            if sha256_hex(raw) != SHA256_RAW[relpath]:
                raise DataError(f"{CIFAR10_URL}: {relpath} has a wrong checksum")
            atomic_write_bytes(base / relpath, raw)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write `data` to `target` via a temporary file and a rename: never a partial file."""
    atomic_write(target, lambda handle: handle.write(data))


def atomic_write(target: Path, write: Callable[[io.BufferedWriter], object]) -> None:
    """Call `write(handle)` on a temporary file beside `target`, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
