"""Manifest signatures: an Ed25519 key file, or any signer (an AWS KMS asymmetric key) that signs the
same message. The message is the SHA-256 of the manifest's canonical JSON (every field but
`signature`, keys sorted, no spaces, UTF-8), so it is 32 bytes whatever the manifest holds."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

ED25519 = "ed25519"
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}


class Signer(Protocol):
    def sign(self, message: bytes) -> dict[str, str]:
        """The manifest's `signature` block for `message`: algorithm, key_id and value (base64)."""
        ...


def signed_message(manifest: dict[str, Any]) -> bytes:
    """What a signature covers: the SHA-256 of the manifest without its signature, in canonical JSON."""
    body = {k: v for k, v in manifest.items() if k != "signature"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).digest()


def fingerprint(public_key: Any) -> str:
    """`sha256:<hex>` of a public key's DER SubjectPublicKeyInfo: how manifests name the key."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


class Ed25519Signer:
    """Signs with an Ed25519 private key (PEM, PKCS#8, unencrypted), as `stepscope keygen` writes it."""

    def __init__(self, key: ed25519.Ed25519PrivateKey):
        self.key = key
        self.key_id = fingerprint(key.public_key())

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Ed25519Signer:
        try:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except OSError as e:
            raise ValueError(f"cannot read the signing key {path}: {e.strerror or e}") from None
        except (ValueError, TypeError):
            raise ValueError(f"{path} is not an unencrypted PEM private key") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 key (stepscope keygen writes one)")
        return cls(key)

    def sign(self, message: bytes) -> dict[str, str]:
        value = base64.b64encode(self.key.sign(message)).decode()
        return {"algorithm": ED25519, "key_id": self.key_id, "value": value}


def keygen(private_path: str | os.PathLike[str], public_path: str | os.PathLike[str]) -> str:
    """Write a new Ed25519 key pair (the private key readable by its owner only); returns its key id.
    Existing files are never overwritten."""
    private_path, public_path = Path(private_path), Path(public_path)
    for p in (private_path, public_path):
        if p.exists():
            raise FileExistsError(f"{p} exists: not overwritten")
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return fingerprint(key.public_key())


def load_public_key(data: bytes, source: str) -> Any:
    """A public key from PEM (or DER, as KMS GetPublicKey returns it): Ed25519, EC or RSA."""
    try:
        key = (
            serialization.load_pem_public_key(data)
            if data.lstrip().startswith(b"-----")
            else serialization.load_der_public_key(data)
        )
    except ValueError:
        raise ValueError(f"{source} is not a public key (PEM or DER)") from None
    if not isinstance(key, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise ValueError(f"{source}: unsupported key type {type(key).__name__}")
    return key


def check_signature(block: Any, message: bytes, public_key: Any) -> str | None:
    """None when `block` is a valid signature of `message` by `public_key`; else what is wrong."""
    if not isinstance(block, dict) or not {"algorithm", "key_id", "value"} <= block.keys():
        return "not signed"
    expected = fingerprint(public_key)
    try:
        sig = base64.b64decode(str(block["value"]), validate=True)
        _verify(str(block["algorithm"]), public_key, sig, message)
    except (InvalidSignature, ValueError, TypeError, KeyError):
        if block["key_id"] != expected and not str(block["key_id"]).startswith("arn:"):
            return f"signed by key {block['key_id']}, not by the given key {expected}"
        return "signature does not verify with the given key (manifest edited, or signed by another key)"
    return None


def _verify(algorithm: str, key: Any, sig: bytes, message: bytes) -> None:
    """Raise InvalidSignature (or ValueError for an algorithm that does not fit the key)."""
    bits = algorithm[-3:]
    if algorithm == ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(sig, message)
    elif algorithm.startswith("ECDSA_SHA_") and isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(sig, message, ec.ECDSA(_HASHES[bits]()))
    elif algorithm.startswith("RSASSA_PSS_SHA_") and isinstance(key, rsa.RSAPublicKey):
        pss = padding.PSS(mgf=padding.MGF1(_HASHES[bits]()), salt_length=padding.PSS.AUTO)
        key.verify(sig, message, pss, _HASHES[bits]())
    elif algorithm.startswith("RSASSA_PKCS1_V1_5_SHA_") and isinstance(key, rsa.RSAPublicKey):
        key.verify(sig, message, padding.PKCS1v15(), _HASHES[bits]())
    else:
        raise ValueError(f"algorithm {algorithm} does not fit a {type(key).__name__}")
