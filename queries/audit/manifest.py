"""Audit manifests: one JSON file beside each CSV, linked into a chain per series (domain × period
kind), each link holding the SHA-256 of the one before it in its series."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from queries.audit.dest import Destination

MANIFEST_SUFFIX = ".manifest.json"
FORMAT = "stepscope-audit-manifest/2"


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The file a manifest is written as (what the next link's `previous.manifest_sha256` hashes)."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def series_name(domain: str, kind: str) -> str:
    return f"{domain}/{kind}"


@dataclass(frozen=True)
class Link:
    """One manifest as found at the destination: its path, parsed fields and SHA-256 of its bytes."""

    rel: str
    manifest: dict[str, Any]
    sha256: str

    @property
    def csv(self) -> str:
        return self.rel[: -len(MANIFEST_SUFFIX)]

    @property
    def series(self) -> str:
        return str(self.manifest.get("series", ""))

    @property
    def sequence(self) -> int:
        seq = self.manifest.get("sequence")
        return seq if isinstance(seq, int) else 0


class BadManifest(ValueError):
    """A manifest that cannot be read as one (not JSON, or fields missing)."""


REQUIRED = ("file", "rows", "sha256", "series", "sequence", "revision", "period", "previous")


def parse(rel: str, data: bytes) -> Link:
    try:
        m = json.loads(data)
    except ValueError:
        raise BadManifest("not valid JSON") from None
    missing = [k for k in REQUIRED if not isinstance(m, dict) or k not in m]
    if missing:
        raise BadManifest(f"not an audit manifest (missing {', '.join(missing)})")
    return Link(rel, m, hashlib.sha256(data).hexdigest())


def links(dest: Destination, folder: str) -> list[Link]:
    """Every manifest in one folder of a destination, by series then sequence (BadManifest if one is
    unreadable: a chain cannot be extended past a link nobody can check)."""
    found = []
    for rel in dest.files(folder):
        if rel.endswith(MANIFEST_SUFFIX):
            try:
                found.append(parse(rel, dest.read(rel) or b""))
            except BadManifest as e:
                raise BadManifest(
                    f"{dest.where(rel)}: {e}; the chain cannot be extended (run verify-audit)"
                ) from None
    return sorted(found, key=lambda x: (x.series, x.sequence, x.rel))
