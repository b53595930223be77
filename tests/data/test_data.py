import gzip
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from trustml.core.errors import ChecksumError, DataError
from trustml.data import files, load_fashion_mnist, load_mnist
from trustml.data.checksums import SHA256_RAW
from trustml.data.datasets import _idx_pair

LABELS = "MNIST/raw/t10k-labels-idx1-ubyte"


@pytest.fixture(autouse=True)
def _fresh_loader_cache():
    _idx_pair.cache_clear()
    yield
    _idx_pair.cache_clear()


def _offline(url):
    raise urllib.error.URLError("network unreachable (test)")


def test_root_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("TRUSTML_DATA", raising=False)
    assert files.data_root() == Path("data")
    monkeypatch.setenv("TRUSTML_DATA", str(tmp_path))
    assert files.data_root() == tmp_path
    assert files.data_root("explicit") == Path("explicit")


def test_load_real_mnist(real_data_root):
    x, y = load_mnist("test", root=real_data_root)
    assert x.shape == (10_000, 28, 28) and x.dtype == torch.uint8
    assert y.shape == (10_000,) and y.dtype == torch.int64
    assert int(y.min()) == 0 and int(y.max()) == 9
    xf, yf = load_fashion_mnist("train", root=real_data_root)
    assert xf.shape == (60_000, 28, 28)
    assert torch.bincount(yf).tolist() == [6000] * 10


def test_loaders_return_independent_copies(real_data_root):
    x1, _ = load_mnist("test", root=real_data_root)
    x1.zero_()
    x2, _ = load_mnist("test", root=real_data_root)
    assert int(x2.sum()) > 0


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")


def test_checksum_mismatch_names_file_and_both_hashes(tmp_path):
    target = tmp_path / LABELS
    target.parent.mkdir(parents=True)
    target.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 1, 7]))
    with pytest.raises(ChecksumError) as info:
        files.read_verified(LABELS, tmp_path)
    message = str(info.value)
    assert str(target) in message and SHA256_RAW[LABELS] in message
    assert files.sha256_hex(target.read_bytes()) in message


def test_gzip_copy_is_verified_on_its_uncompressed_bytes(tmp_path, real_data_root):
    raw = files.read_verified(LABELS, real_data_root)
    target = tmp_path / f"{LABELS}.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(gzip.compress(raw, compresslevel=1))  # other compression, same content
    assert files.read_verified(LABELS, tmp_path) == raw
    target.write_bytes(gzip.compress(raw)[:-20])
    with pytest.raises(DataError, match="gzip"):
        files.read_verified(LABELS, tmp_path)


def test_missing_data_offline_is_one_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_fetch", _offline)
    with pytest.raises(DataError) as info:
        load_mnist("test", root=tmp_path)
    message = str(info.value)
    assert "TRUSTML_DATA" in message and "could not be downloaded" in message
    assert not any(p.is_file() for p in tmp_path.rglob("*")), "no partial file may be left"


def test_offline_switch_skips_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTML_OFFLINE", "1")
    monkeypatch.setattr(files, "_fetch", lambda url: pytest.fail("must not download"))
    with pytest.raises(DataError, match="downloads are disabled"):
        files.read_verified(LABELS, tmp_path)


def test_download_verifies_and_writes_atomically(tmp_path, monkeypatch, real_data_root):
    payload = gzip.compress(files.read_verified(LABELS, real_data_root))
    urls = []

    def fake_fetch(url):
        urls.append(url)
        if len(urls) == 1:
            return gzip.compress(b"wrong bytes")  # first mirror serves a bad copy
        return payload

    monkeypatch.setattr(files, "_fetch", fake_fetch)
    labels = files.read_verified(LABELS, tmp_path)
    assert len(urls) == 2 and urls[0].endswith("t10k-labels-idx1-ubyte.gz")
    assert (tmp_path / f"{LABELS}.gz").read_bytes() == payload
    assert np.frombuffer(labels, np.uint8)[8:].max() == 9
    assert [p.name for p in (tmp_path / "MNIST/raw").iterdir()] == ["t10k-labels-idx1-ubyte.gz"]


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "sub" / "file.bin"

    def broken(handle):
        handle.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        files.atomic_write(target, broken)
    assert list((tmp_path / "sub").iterdir()) == []
