"""Where audit exports go: a local folder or an s3://bucket/prefix. A file is staged under a hidden
temporary name, then put in place whole (a rename locally; on S3 a copy of the finished temporary
object, so a reader never sees part of a file), or dropped when the export turned out unchanged."""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
import queue
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.fs as pafs

from lake.store import filesystem, write_atomically

# Pieces made but not yet written (an audit CSV piece is ~8 MB).
WRITE_QUEUE = 2
# A local file is written with O_DIRECT in blocks of DIRECT_BLOCK bytes from DIRECT_BUFFERS page-aligned
# buffers of DIRECT_CHUNK bytes, all but one of them on their way to the disk at once.
DIRECT_BLOCK = 4096
DIRECT_CHUNK = 4 << 20
DIRECT_BUFFERS = 4
# On a filesystem that refuses O_DIRECT: bytes after which the kernel is asked to start
# writing them (see _start_writeback).
WRITEBACK_BYTES = 32 << 20

Waiting: TypeAlias = "queue.Queue[pa.Buffer | bytes | None]"


def _put(waiting: Waiting, data: pa.Buffer | bytes) -> bool:
    """Hand `data` to the writer; False when its queue stayed full for a second."""
    try:
        waiting.put(data, timeout=1.0)
    except queue.Full:
        return False
    return True


def _open_direct(path: str) -> int | None:
    """A new file opened for writing around the page cache (O_DIRECT); None where the filesystem or
    the platform does not offer it."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | flag, 0o644)
    except OSError as e:
        if e.errno == errno.EINVAL:
            return None
        raise


def _pwrite_all(fd: int, data: memoryview, at: int) -> None:
    if os.pwrite(fd, data, at) != len(data):
        raise OSError(errno.EIO, f"short write of {len(data)} bytes at {at}")


def _write_direct(fd: int, waiting: Waiting) -> None:
    """Write what comes through `waiting` until None to `fd` (opened with O_DIRECT), durably.

    Through the page cache the kernel copies every byte once more and then writes it back, 0.9–1.7
    CPU-s for a 792 MiB export, as much as rendering it; here the disk reads the bytes straight from
    a few page-aligned buffers (~0.25 CPU-s for the copies into them). The last block is padded, then
    the file is cut to its size."""
    free = deque(mmap.mmap(-1, DIRECT_CHUNK) for _ in range(DIRECT_BUFFERS))
    sent: deque[tuple[Future[None], mmap.mmap]] = deque()
    with ThreadPoolExecutor(DIRECT_BUFFERS - 1, thread_name_prefix="audit-disk") as disk:
        buf, fill, at = free.popleft(), 0, 0
        while (data := waiting.get()) is not None:
            view = memoryview(data).cast("B")
            while len(view):
                k = min(len(view), DIRECT_CHUNK - fill)
                buf[fill : fill + k] = view[:k]
                fill, view = fill + k, view[k:]
                if fill < DIRECT_CHUNK:
                    continue
                sent.append((disk.submit(_pwrite_all, fd, memoryview(buf), at), buf))
                at += DIRECT_CHUNK
                if not free:
                    done, back = sent.popleft()
                    done.result()
                    free.append(back)
                buf, fill = free.popleft(), 0
        for done, _ in sent:
            done.result()
        if fill:
            padded = -(-fill // DIRECT_BLOCK) * DIRECT_BLOCK
            buf[fill:padded] = bytes(padded - fill)
            _pwrite_all(fd, memoryview(buf)[:padded], at)
        os.ftruncate(fd, at + fill)
        os.fsync(fd)


def _start_writeback(f: Any, start: int, end: int) -> int:
    """Have the kernel start writing bytes [start, end) of a file to disk now, not at the closing fsync:
    the disk then works while the rest is rendered. On Linux, POSIX_FADV_DONTNEED starts the writeback
    of dirty pages and drops only clean ones, so the pages just written stay cached. Returns `end`."""
    if hasattr(os, "posix_fadvise"):
        f.flush()
        os.posix_fadvise(f.fileno(), start, end - start, os.POSIX_FADV_DONTNEED)
    return end


def _write_stream(f: Any, waiting: Waiting, local: bool) -> None:
    """Write what comes through `waiting` until None to a file object; durably when `local`."""
    size = started = 0
    while (data := waiting.get()) is not None:
        f.write(data)
        size += len(data)
        if local and size - started >= WRITEBACK_BYTES:
            started = _start_writeback(f, started, size)
    if local:
        f.flush()
        os.fsync(f.fileno())


@dataclass(frozen=True)
class Staged:
    """A file written under a temporary name: its rows, SHA-256 and size."""

    tmp: str
    rows: int
    sha256: str
    size: int


class Destination:
    """A folder (local path or s3:// prefix) that holds audit exports, addressed by relative paths."""

    def __init__(self, uri: str):
        self.uri = uri.rstrip("/") or uri
        self.local = not uri.startswith("s3://")
        self.fs, self.root = filesystem(uri)

    def path(self, rel: str) -> str:
        return f"{self.root.rstrip('/')}/{rel}"

    def where(self, rel: str) -> str:
        """How a person names the file: the destination URI joined with the relative path."""
        return rel if self.uri == "." else f"{self.uri}/{rel}"

    def files(self, folder: str) -> list[str]:
        """Relative paths of the files directly in `folder` (none when it does not exist)."""
        sel = pafs.FileSelector(self.path(folder) if folder else self.root, allow_not_found=True)
        prefix = f"{folder}/" if folder else ""
        return sorted(
            prefix + i.base_name for i in self.fs.get_file_info(sel) if i.type == pafs.FileType.File
        )

    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self.path(rel)).type != pafs.FileType.NotFound

    def read(self, rel: str) -> bytes | None:
        """A file's bytes, None when it is absent."""
        if not self.exists(rel):
            return None
        with self.fs.open_input_stream(self.path(rel)) as f:
            data: bytes = f.read()
            return data

    def stage(self, folder: str, pieces: Iterable[tuple[pa.Buffer | bytes, int]]) -> Staged:
        """Write (bytes, rows) pieces to a hidden temporary file in `folder`, hashing them as they pass.

        A thread of its own writes them while the next pieces are made and hashed; memory holds at most
        WRITE_QUEUE pieces waiting for the disk. A local file is durable before this returns."""
        tmp = f"{folder}/.{uuid.uuid4().hex}.tmp"
        h, rows, size = hashlib.sha256(), 0, 0
        waiting: Waiting = queue.Queue(WRITE_QUEUE)
        try:
            with ExitStack() as stack:
                fd = None
                if self.local:
                    os.makedirs(self.path(folder), exist_ok=True)
                    fd = _open_direct(self.path(tmp))
                if fd is not None:
                    stack.callback(os.close, fd)
                    write: Callable[[], None] = partial(_write_direct, fd, waiting)
                else:
                    f = stack.enter_context(
                        open(self.path(tmp), "wb")
                        if self.local
                        else self.fs.open_output_stream(self.path(tmp))
                    )
                    write = partial(_write_stream, f, waiting, self.local)
                pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="audit-write"))
                written = pool.submit(write)
                try:
                    for data, n in pieces:
                        h.update(data)
                        rows, size = rows + n, size + len(data)
                        while not _put(waiting, data) and not written.done():
                            pass
                        if written.done():  # the writer failed: its error is raised below
                            break
                finally:
                    while not written.done() and not _put(waiting, None):
                        pass
                written.result()
        except BaseException:
            self.drop(tmp)
            raise
        return Staged(tmp, rows, h.hexdigest(), size)

    def commit(self, staged: Staged, rel: str) -> None:
        """Put a staged file in place under its final name."""
        if self.local:
            os.replace(self.path(staged.tmp), self.path(rel))
            return
        try:
            self.fs.copy_file(self.path(staged.tmp), self.path(rel))
        finally:
            self.drop(staged.tmp)

    def drop(self, rel: str) -> None:
        """Remove a file if it is there."""
        try:
            self.fs.delete_file(self.path(rel))
        except FileNotFoundError:
            pass

    def put(self, rel: str, data: bytes) -> None:
        """Write a small file whole (readers see the old file or the new one)."""
        if self.local:
            write_atomically(self.path(rel), [data])
            return
        with self.fs.open_output_stream(self.path(rel)) as f:  # an S3 PUT is atomic by itself
            f.write(data)
