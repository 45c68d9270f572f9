"""GitHub's side of secret scanning, played in the test: a P-256 key pair made here, its public
half written to a GITHUB_SECRET_SCANNING_KEYS_FILE, and requests signed as GitHub signs them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

GITHUB_PATH = "/v1/secret-scanning/github"
REPORT_PATH = "/v1/keys/report-leak"
LEAK_URL = "https://github.com/octocat/hello/blob/0123abc/config.py"

SET_LEAK_POLICY = """
mutation UpdateLeakPolicy($input: UpdateLeakPolicyInput!) {
  updateLeakPolicy(input: $input) {
    __typename
    ... on LeakPolicyUpdated { organization { id leakPolicy } }
    ... on Error { message }
  }
}
"""

KEY_LEAKS = """
query KeyLeaks($id: ID!) {
  apiKey(id: $id) { id leaks { url source reporter revoked foundAt } }
}
"""


@dataclass
class GitHubSigner:
    identifier: str
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def new(cls, identifier: str = "test-key-1") -> GitHubSigner:
        return cls(identifier, ec.generate_private_key(ec.SECP256R1()))

    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def write_keys(self, path: Path, *others: GitHubSigner) -> Path:
        entries = [
            {"key_identifier": signer.identifier, "key": signer.public_pem(), "is_current": True}
            for signer in (self, *others)
        ]
        path.write_text(json.dumps({"public_keys": entries}))
        return path

    def sign(self, raw: bytes) -> str:
        return base64.b64encode(self.private_key.sign(raw, ec.ECDSA(hashes.SHA256()))).decode()

    def headers(self, raw: bytes) -> dict[str, str]:
        return {
            "Github-Public-Key-Identifier": self.identifier,
            "Github-Public-Key-Signature": self.sign(raw),
            "Content-Type": "application/json",
        }


def matches(*tokens: str, url: str = LEAK_URL, source: str = "content") -> bytes:
    body = [
        {"token": t, "type": "keyward_secret_key", "url": url, "source": source} for t in tokens
    ]
    return json.dumps(body).encode()


async def post_github(
    client: TestClient[Any, Any], signer: GitHubSigner, raw: bytes
) -> tuple[int, Any]:
    response = await client.post(GITHUB_PATH, data=raw, headers=signer.headers(raw))
    return response.status, await response.json()


async def report(client: TestClient[Any, Any], *tokens: str) -> tuple[int, Any]:
    response = await client.post(REPORT_PATH, json={"tokens": list(tokens)})
    return response.status, await response.json()
