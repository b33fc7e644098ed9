"""One writer at a time: the lake's lock, which `stepscope collect` holds for its whole run.

- A folder lake: an advisory `flock` on `<lake>/_stepscope.lock`. The kernel releases it when the
  holder's process ends, however it ends (kill -9 included), so a dead holder never blocks anyone.
- An `s3://` lake: a lease, the object `<prefix>/_stepscope.lock`, created by a conditional PUT
  (`If-None-Match: *`, so of two writers exactly one gets it), renewed by its holder every `ttl / 3`
  (`If-Match` its own ETag) and taken over by anyone once it has gone `ttl` without renewal
  (`If-Match` the stale lease's ETag, so of several waiters exactly one takes it). Whether a lease
  has expired is judged on S3's clock (the object's LastModified against the response's Date),
  never on a client's, so a skewed clock cannot steal a live lease.

The lock file holds who has it (pid, host, command, since), which is what a second run reports.
"""

from __future__ import annotations

import contextlib
import email.utils
import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from lake.layout import LOCK_FILE

DEFAULT_TTL = 120.0  # seconds an S3 lease lives without renewal: how long a dead holder blocks the lake
POLL_SECONDS = {True: 1.0, False: 0.2}  # between attempts while waiting: S3 (a request each), folder

log = logging.getLogger("lake.lock")


class LakeLocked(Exception):
    """Another run holds the lake's lock; `holder` is what that run wrote about itself."""

    def __init__(self, uri: str, holder: Mapping[str, Any], message: str | None = None):
        super().__init__(
            message
            or f"another run holds the lock on the lake at {uri}: {describe(holder)} (--wait waits for it)"
        )
        self.uri, self.holder = uri, dict(holder)


class LockLost(LakeLocked):
    """The lease ran out under a live run (it could not be renewed in time): another may have written."""

    def __init__(self, uri: str):
        super().__init__(
            uri,
            {},
            f"the lock on the lake at {uri} was lost during the run (its lease could not be renewed in "
            "time), so another run may have written meanwhile: run collect again to be sure of the lake",
        )


def describe(holder: Mapping[str, Any]) -> str:
    """'collect, pid 4242 on host-a since 2026-11-20T10:00:00+00:00' (or what of it is known)."""
    if not holder:
        return "holder unknown"
    where = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"
    since = f" since {holder['acquired_at']}" if holder.get("acquired_at") else ""
    return f"{holder.get('command') or 'a run'}, {where}{since}"


class _Lock(Protocol):
    lost: bool

    def try_acquire(self) -> dict[str, Any] | None:
        """None once held; else the holder's description."""

    def release(self) -> None: ...


class FolderLock:
    """`flock` on the lake folder's lock file: released by the kernel when the holder dies."""

    lost = False  # a flock cannot be taken away from a live process

    def __init__(self, root: str, about: Mapping[str, Any], name: str = LOCK_FILE):
        self.path = os.path.join(root, name)
        self.about = dict(about)
        self._fd: int | None = None
        self._made: str | None = None  # the lake folder, when this lock created it

    def try_acquire(self) -> dict[str, Any] | None:
        folder = os.path.dirname(self.path)
        if not os.path.isdir(folder):
            os.makedirs(folder, exist_ok=True)
            self._made = folder
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _parse(os.pread(fd, 65536, 0))
            os.close(fd)
            return holder
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(self.about, sort_keys=True).encode(), 0)
        self._fd = fd
        return None

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # the file stays: removing it would race with the next holder
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        # a run that wrote nothing (e.g. no credentials) leaves no lake behind
        if self._made is not None and os.listdir(self._made) == [os.path.basename(self.path)]:
            os.remove(self.path)
            os.rmdir(self._made)


class S3Lease:
    """A lease object on S3 with conditional writes; renewed by a thread while it is held."""

    def __init__(
        self, uri: str, about: Mapping[str, Any], ttl: float, client: Any = None, name: str = LOCK_FILE
    ):
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        self.bucket, self.key = bucket, f"{prefix.strip('/')}/{name}".lstrip("/")
        self.about = {**about, "ttl_seconds": ttl}
        self.ttl = ttl
        self.lost = False
        self._client = client
        self._etag: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # boto3 honours AWS_ENDPOINT_URL(_S3) and the Region from the environment

            self._client = boto3.client("s3")
        return self._client

    def try_acquire(self) -> dict[str, Any] | None:
        try:
            return self._try_acquire()
        except _client_error() as e:  # no bucket, no permission: as any other lake that cannot be used
            raise OSError(f"cannot take the lock s3://{self.bucket}/{self.key}: {e}") from None

    def _try_acquire(self) -> dict[str, Any] | None:
        if self._put(IfNoneMatch="*"):
            return None
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except self.client.exceptions.NoSuchKey:
            return {}  # released just now: the next attempt gets it
        holder = _parse(obj["Body"].read())
        age = _server_now(obj) - obj["LastModified"]
        ttl = float(holder.get("ttl_seconds") or self.ttl)
        if age.total_seconds() <= ttl:
            return holder
        if not self._put(IfMatch=obj["ETag"]):
            return holder  # another waiter took it over first
        log.warning(
            "took over the lock on s3://%s/%s from %s: not renewed for %.0f s (lease %.0f s)",
            self.bucket,
            self.key,
            describe(holder),
            age.total_seconds(),
            ttl,
        )
        return None

    def _put(self, **condition: str) -> bool:
        body = json.dumps({**self.about, "renewed_at": _now()}, sort_keys=True).encode()
        try:
            r = self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=body, ContentType="application/json", **condition
            )
        except _client_error() as e:
            if _code(e) in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "404"):
                return False
            raise
        self._etag = r["ETag"]
        if self._renewer is None:
            self._renewer = threading.Thread(target=self._renew, name="lake-lock-renewer", daemon=True)
            self._renewer.start()
        return True

    def _renew(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.ttl / 3):
            try:
                renewed = self._put(IfMatch=self._etag or "")
            except Exception as e:  # a network error: try again next time, while the lease lasts
                log.warning("could not renew the lock on s3://%s/%s: %s", self.bucket, self.key, e)
                renewed = time.monotonic() - last < self.ttl
                if renewed:
                    continue
            if not renewed:
                self.lost = True
                log.error("lost the lock on s3://%s/%s: another run may write now", self.bucket, self.key)
                return
            last = time.monotonic()

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if self._etag is None or self.lost:
            return
        with contextlib.suppress(_client_error()):  # taken over meanwhile: not ours to delete
            self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=self._etag)
        self._etag = None


@contextlib.contextmanager
def lake_lock(
    uri: str,
    *,
    command: str,
    wait: float = 0.0,
    ttl: float = DEFAULT_TTL,
    client: Any = None,
    name: str = LOCK_FILE,
) -> Iterator[_Lock]:
    """Hold the lake's lock for the block, waiting up to `wait` seconds for it (LakeLocked after).

    `ttl` is the S3 lease's life without renewal; `client` an S3 client (default: boto3's); `name` the
    lock's file in the lake (another name is another lock: a short one over one table's appends)."""
    about = {"command": command, "pid": os.getpid(), "host": socket.gethostname(), "acquired_at": _now()}
    remote = uri.startswith("s3://")
    lock: _Lock = (
        S3Lease(uri, about, ttl, client, name) if remote else FolderLock(os.path.abspath(uri), about, name)
    )
    deadline = time.monotonic() + wait
    said = False
    while (holder := lock.try_acquire()) is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise LakeLocked(uri, holder)
        if not said and holder:
            log.warning("waiting up to %.0f s for the lock on %s: held by %s", wait, uri, describe(holder))
            said = True
        time.sleep(min(POLL_SECONDS[remote], left))
    try:
        yield lock
        if lock.lost:
            raise LockLost(uri)
    finally:
        lock.release()


def _parse(data: bytes) -> dict[str, Any]:
    try:
        holder = json.loads(data.decode() or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}  # being written this instant, or not ours: the holder is simply unknown
    return holder if isinstance(holder, dict) else {}


def _server_now(response: Mapping[str, Any]) -> datetime:
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    return email.utils.parsedate_to_datetime(date) if date else datetime.now(UTC)


def _client_error() -> type[Exception]:
    from botocore.exceptions import ClientError

    return ClientError


def _code(e: Exception) -> str:
    return str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
