"""The audit destination's local writer: the bytes on disk are the pieces, at every size around the
O_DIRECT block and buffer edges, durably, and a failure on either side leaves no file behind."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from queries.audit import dest
from queries.audit.dest import Destination


@pytest.fixture()
def small_buffers(monkeypatch):
    """Buffers of two blocks, so a few KB cross every edge the 4 MiB buffers of an export cross."""
    monkeypatch.setattr(dest, "DIRECT_CHUNK", 2 * dest.DIRECT_BLOCK)


def pieces_of(data: bytes, sizes: list[int]):
    at = 0
    for size in sizes:
        yield data[at : at + size], 1
        at += size
    assert at == len(data)


def staged_bytes(tmp_path: Path, pieces) -> tuple[bytes, dest.Staged]:
    d = Destination(str(tmp_path))
    staged = d.stage("pay", pieces)
    return (tmp_path / staged.tmp).read_bytes(), staged


def test_the_folder_takes_o_direct(tmp_path):
    """The tests below write through O_DIRECT only where the filesystem offers it (ext4 does): say so
    instead of passing through the other path unnoticed."""
    fd = dest._open_direct(str(tmp_path / "probe"))
    if fd is None:
        pytest.skip(f"{tmp_path} does not take O_DIRECT: the buffered writer is what runs here")
    os.close(fd)


@pytest.mark.parametrize(
    "sizes",
    [
        [],
        [1],
        [4095],
        [4096],
        [4097],
        [8192],
        [8193],
        [3, 5000, 1, 11000, 7, 4096],
        [20000],
        [8192, 8192, 1],
    ],
)
def test_the_file_is_the_pieces_at_every_edge(tmp_path, small_buffers, sizes):
    data = os.urandom(sum(sizes))
    got, staged = staged_bytes(tmp_path, pieces_of(data, sizes))
    assert got == data
    assert staged.size == len(data) and staged.rows == len(sizes)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()


def test_the_buffered_writer_gives_the_same_file(tmp_path, monkeypatch):
    """Where O_DIRECT is not offered the file goes through the page cache, with the same bytes."""
    monkeypatch.setattr(dest, "_open_direct", lambda path: None)
    monkeypatch.setattr(dest, "WRITEBACK_BYTES", 1000)
    data = os.urandom(30_000)
    got, staged = staged_bytes(tmp_path, pieces_of(data, [1, 9000, 999, 20000]))
    assert got == data and staged.sha256 == hashlib.sha256(data).hexdigest()


def test_a_filesystem_without_o_direct_is_written_through_the_page_cache(tmp_path, monkeypatch):
    """Some filesystems refuse O_DIRECT at open with EINVAL: the export then writes as before."""
    real = os.open

    def refuse(path, flags, *mode):
        if flags & getattr(os, "O_DIRECT", 0):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(path, flags, *mode)

    monkeypatch.setattr(dest.os, "open", refuse)
    assert dest._open_direct(str(tmp_path / "probe")) is None
    data = os.urandom(10_000)
    got, _ = staged_bytes(tmp_path, pieces_of(data, [10_000]))
    assert got == data


def test_a_disk_that_fails_leaves_no_file_and_says_why(tmp_path, small_buffers, monkeypatch):
    real = os.pwrite
    calls = []

    def full(fd, data, at):
        calls.append(at)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data, at)

    monkeypatch.setattr(dest.os, "pwrite", full)
    with pytest.raises(OSError, match="No space left"):
        staged_bytes(tmp_path, pieces_of(os.urandom(100_000), [1000] * 100))
    assert not [p for p in (tmp_path / "pay").iterdir()]


def test_a_failing_export_leaves_no_file_and_the_writer_stops(tmp_path, small_buffers):
    def broken():
        yield os.urandom(20_000), 1
        raise RuntimeError("the lake went away")

    with pytest.raises(RuntimeError, match="the lake went away"):
        staged_bytes(tmp_path, broken())
    assert not [p for p in (tmp_path / "pay").iterdir()]
