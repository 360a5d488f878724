"""The TPP side of message signatures: sign each outgoing request with the TPP's QSealC.

`RequestSigner` computes the three headers (Digest, Signature, TPP-Signature-Certificate);
`SigningAuth` plugs it into an httpx client so that every request, body included, is signed
just before it is sent (after httpx has encoded the body, so the digest covers the real bytes).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from twinrail.openbanking.domain.http_signatures import SigningKey, sign_request
from twinrail.openbanking.service.sandbox_qtsp import IssuedCertificate

__all__ = ["RequestSigner", "SigningAuth"]


class RequestSigner:
    """Signs requests with one QSealC's private key (RSA: rsa-sha256, EC: ecdsa-sha256)."""

    def __init__(
        self, key: SigningKey, certificate: x509.Certificate, *, hash_name: str = "sha256"
    ) -> None:
        if hash_name not in ("sha256", "sha512"):
            raise ValueError(f"unsupported hash {hash_name!r} (sha256 or sha512)")
        self.key = key
        self.certificate = certificate
        self.hash_name = hash_name

    @classmethod
    def from_files(cls, cert_path: Path, key_path: Path, **kwargs: str) -> RequestSigner:
        """A signer from a PEM certificate and an unencrypted PEM key."""
        cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("a QSealC key must be RSA or EC")
        return cls(key, cert, **kwargs)

    @classmethod
    def from_issued(cls, issued: IssuedCertificate, **kwargs: str) -> RequestSigner:
        """A signer for a QSealC the sandbox QTSP issued."""
        return cls.from_files(issued.cert_path, issued.key_path, **kwargs)

    def headers_for(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, str]:
        """Digest, Signature and TPP-Signature-Certificate for a request with `headers`."""
        return sign_request(
            method, target, headers, body, self.key, self.certificate, hash_name=self.hash_name
        )

    def auth(self) -> SigningAuth:
        """An httpx auth that signs every request of a client."""
        return SigningAuth(self)


class SigningAuth(httpx.Auth):
    """httpx authentication flow adding the Berlin Group signature headers."""

    requires_request_body = True

    def __init__(self, signer: RequestSigner) -> None:
        self.signer = signer

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        target = request.url.raw_path.decode("ascii")
        signed = self.signer.headers_for(
            request.method, target, dict(request.headers), request.content
        )
        request.headers.update(signed)
        yield request
