"""Audit manifests signed and checked with an AWS KMS asymmetric key (key usage SIGN_VERIFY).

Signing calls kms:Sign on the manifest's 32-byte message; checking fetches the key's public half once
(kms:GetPublicKey) and verifies locally, as anyone holding the exported public key can."""

from __future__ import annotations

import base64
from typing import Any

from queries.audit.sign import load_public_key

# Preferred first: ECDSA signatures are short; RSA-PSS where the key is RSA.
ALGORITHMS = (
    "ECDSA_SHA_256",
    "ECDSA_SHA_384",
    "ECDSA_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
)


def _public(client: Any, key_id: str) -> dict[str, Any]:
    info: dict[str, Any] = client.get_public_key(KeyId=key_id)
    if info.get("KeyUsage") != "SIGN_VERIFY":
        raise ValueError(f"KMS key {key_id} is not a signing key (key usage {info.get('KeyUsage')})")
    return info


class KmsSigner:
    """Signs manifests with kms:Sign; the signature block names the key by its ARN."""

    def __init__(self, client: Any, key_id: str):
        info = _public(client, key_id)
        offered = info.get("SigningAlgorithms") or []
        usable = [a for a in ALGORITHMS if a in offered]
        if not usable:
            raise ValueError(f"KMS key {key_id} offers no supported signing algorithm ({', '.join(offered)})")
        self.client, self.key_id, self.algorithm = client, str(info["KeyId"]), usable[0]

    def sign(self, message: bytes) -> dict[str, str]:
        r = self.client.sign(
            KeyId=self.key_id, Message=message, MessageType="RAW", SigningAlgorithm=self.algorithm
        )
        return {
            "algorithm": self.algorithm,
            "key_id": self.key_id,
            "value": base64.b64encode(r["Signature"]).decode(),
        }


def kms_public_key(client: Any, key_id: str) -> Any:
    """The public half of a KMS signing key, to check signatures locally."""
    return load_public_key(_public(client, key_id)["PublicKey"], f"KMS key {key_id}")
