import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trustml.core.errors import DataError
from trustml.data.idx import IMAGES_MAGIC, LABELS_MAGIC, encode_idx, parse_idx


@given(arrays(np.uint8, st.tuples(st.integers(0, 5), st.integers(1, 4), st.integers(1, 4))))
def test_round_trip_images(images):
    out = parse_idx(encode_idx(images), expected_magic=IMAGES_MAGIC)
    assert out.shape == images.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)


def test_labels_magic_and_shape():
    labels = np.arange(10, dtype=np.uint8)
    raw = encode_idx(labels)
    assert int.from_bytes(raw[:4], "big") == LABELS_MAGIC
    np.testing.assert_array_equal(parse_idx(raw, expected_magic=LABELS_MAGIC), labels)


def test_truncated_payload_is_an_error():
    raw = encode_idx(np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(DataError, match="truncated"):
        parse_idx(raw[:-1], name="x")


def test_truncated_header_is_an_error():
    raw = encode_idx(np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(DataError, match="truncated IDX header"):
        parse_idx(raw[:9], name="x")


def test_too_long_is_an_error():
    raw = encode_idx(np.zeros((2, 2, 2), np.uint8)) + b"\0"
    with pytest.raises(DataError, match="longer than"):
        parse_idx(raw)


def test_wrong_magic_is_an_error():
    labels = encode_idx(np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="expected 2051"):
        parse_idx(labels, expected_magic=IMAGES_MAGIC)


def test_foreign_file_is_an_error():
    with pytest.raises(DataError, match="not an uint8 IDX file"):
        parse_idx(b"\x1f\x8b\x08\x00" + bytes(20))  # a gzip header, not IDX
    with pytest.raises(DataError, match="too short"):
        parse_idx(b"\0\0")


def test_two_dimensional_file_is_not_images():
    raw = encode_idx(np.zeros((3, 3), np.uint8))  # magic 2050
    assert parse_idx(raw).shape == (3, 3)
    with pytest.raises(DataError, match="magic number 2050, expected 2051"):
        parse_idx(raw, expected_magic=IMAGES_MAGIC)
