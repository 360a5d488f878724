"""Berlin Group's profile of HTTP message signatures (draft-cavage-http-signatures-10).

A signed NextGenPSD2 request carries three headers (NextGenPSD2 implementation guidelines,
"Signature" section):
- `Digest: SHA-256=<base64 of the body's hash>` (SHA-512 also allowed), over the exact body bytes;
- `Signature: keyId="SN=<hex serial>,CA=<issuer DN>",algorithm="rsa-sha256",
  headers="digest x-request-id psu-id tpp-redirect-uri date",signature="<base64>"`, where the
  signing string is `name: value` of each listed header, in that order, joined by newlines;
- `TPP-Signature-Certificate`: the QSealC (base64 DER) whose key made the signature.
`digest` and `x-request-id` must always be signed; `psu-id`, `psu-corporate-id` and
`tpp-redirect-uri` must be signed when the request carries them; `date` may be.

Everything here is computation on bytes and certificates: whether the certificate itself is a
valid QSealC of the trusted QTSP is `certificates.check_tpp_certificate`'s job.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from twinrail.openbanking.domain.errors import (
    CertificateInvalid,
    SignatureInvalid,
    SignatureMissing,
)

__all__ = [
    "ALWAYS_SIGNED",
    "SIGNED_WHEN_PRESENT",
    "KeyId",
    "SignatureParams",
    "SigningKey",
    "digest_header",
    "check_digest",
    "parse_signature_header",
    "signing_string",
    "headers_to_sign",
    "sign_request",
    "read_signature_certificate",
    "verify_request_signature",
]

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

ALWAYS_SIGNED = ("digest", "x-request-id")
SIGNED_WHEN_PRESENT = ("psu-id", "psu-corporate-id", "tpp-redirect-uri")
_OPTIONAL_SIGNED = ("date",)

_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA-256": hashes.SHA256,
    "SHA-512": hashes.SHA512,
}
# algorithm name -> (key family, hash); cavage leaves the ECDSA encoding open: DER is expected,
# a raw r||s of the right length is accepted too.
_ALGORITHMS: dict[str, tuple[str, type[hashes.HashAlgorithm]]] = {
    "rsa-sha256": ("rsa", hashes.SHA256),
    "rsa-sha512": ("rsa", hashes.SHA512),
    "ecdsa-sha256": ("ec", hashes.SHA256),
    "ecdsa-sha512": ("ec", hashes.SHA512),
}
_PARAM = re.compile(r'\s*([A-Za-z]+)="([^"]*)"\s*(?:,|$)')


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _dn_equal(text: str, name: x509.Name) -> bool:
    try:
        return x509.Name.from_rfc4514_string(text) == name
    except (ValueError, AttributeError):  # AttributeError: a cryptography without the parser
        return text.replace(" ", "").lower() == name.rfc4514_string().replace(" ", "").lower()


@dataclass(frozen=True)
class KeyId:
    """`SN=<hex serial>,CA=<issuer DN>`: which certificate's key made the signature."""

    serial_number: int
    issuer: str  # RFC 4514 distinguished name of the issuing CA

    @classmethod
    def of(cls, certificate: x509.Certificate) -> KeyId:
        """The keyId naming `certificate`."""
        return cls(certificate.serial_number, certificate.issuer.rfc4514_string())

    @classmethod
    def parse(cls, text: str) -> KeyId:
        """Read a keyId; SignatureInvalid when it is not `SN=...,CA=...`."""
        match = re.fullmatch(r"\s*SN=([0-9A-Fa-f]+)\s*,\s*CA=(.+)", text)
        if match is None:
            raise SignatureInvalid("keyId is not of the form SN=<hex serial>,CA=<issuer DN>")
        # The spec's own example percent-encodes the spaces of the DN.
        return cls(int(match.group(1), 16), unquote(match.group(2)).strip())

    def names(self, certificate: x509.Certificate) -> bool:
        """Whether this keyId identifies `certificate` (serial and issuer DN)."""
        return self.serial_number == certificate.serial_number and _dn_equal(
            self.issuer, certificate.issuer
        )

    def __str__(self) -> str:
        return f"SN={self.serial_number:X},CA={self.issuer}"


@dataclass(frozen=True)
class SignatureParams:
    """The parameters of a `Signature` header."""

    key_id: KeyId
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes

    def to_header(self) -> str:
        """The `Signature` header value."""
        encoded = base64.b64encode(self.signature).decode("ascii")
        return (
            f'keyId="{self.key_id}",algorithm="{self.algorithm}",'
            f'headers="{" ".join(self.headers)}",signature="{encoded}"'
        )


def digest_header(body: bytes, algorithm: str = "SHA-256") -> str:
    """The `Digest` header value of `body`."""
    digest = hashes.Hash(_DIGESTS[algorithm]())
    digest.update(body)
    return f"{algorithm}={base64.b64encode(digest.finalize()).decode('ascii')}"


def check_digest(value: str, body: bytes) -> None:
    """Accept `Digest` if every algorithm it names that we know matches `body`, and one does."""
    known = 0
    for part in value.split(","):
        algorithm, sep, _ = part.strip().partition("=")
        if not sep:
            raise SignatureInvalid("Digest is not of the form <algorithm>=<base64>")
        name = algorithm.upper()
        if name not in _DIGESTS:
            continue
        known += 1
        if part.strip() != digest_header(body, name) and not _same_b64(part, body, name):
            raise SignatureInvalid("Digest does not match the request body")
    if not known:
        raise SignatureInvalid("Digest names no supported algorithm (SHA-256 or SHA-512)")


def _same_b64(part: str, body: bytes, algorithm: str) -> bool:
    # Tolerate a lower-case algorithm name: compare the hash bytes, not the header text.
    try:
        given = base64.b64decode(part.strip().partition("=")[2], validate=True)
    except binascii.Error:
        return False
    expected = digest_header(body, algorithm).partition("=")[2]
    return given == base64.b64decode(expected)


def parse_signature_header(value: str) -> SignatureParams:
    """Read a `Signature` header; SignatureInvalid if a parameter is missing or malformed."""
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None:
            raise SignatureInvalid('Signature header is not a list of name="value" pairs')
        params[match.group(1)] = match.group(2)
        position = match.end()
    for required in ("keyId", "signature", "headers"):
        if required not in params:
            raise SignatureInvalid(f"Signature header lacks {required}")
    algorithm = params.get("algorithm", "rsa-sha256").lower()
    if algorithm not in _ALGORITHMS:
        raise SignatureInvalid(f"signature algorithm {algorithm[:30]!r} is not supported")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except binascii.Error:
        raise SignatureInvalid("signature is not base64") from None
    names = tuple(n.lower() for n in params["headers"].split())
    return SignatureParams(KeyId.parse(params["keyId"]), algorithm, names, signature)


def signing_string(
    names: tuple[str, ...], method: str, target: str, headers: Mapping[str, str]
) -> bytes:
    """`name: value` lines of the signed headers; `(request-target)` is `<method> <path?query>`."""
    lowered = _lower(headers)
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"{name}: {method.lower()} {target}")
        elif name in lowered:
            lines.append(f"{name}: {lowered[name].strip()}")
        else:
            raise SignatureInvalid(f"signed header {name!r} is not in the request")
    return "\n".join(lines).encode("utf-8")


def headers_to_sign(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The headers the profile needs signed for a request carrying `headers`."""
    lowered = _lower(headers)
    extra = [n for n in SIGNED_WHEN_PRESENT + _OPTIONAL_SIGNED if n in lowered]
    return ALWAYS_SIGNED + tuple(extra)


def _algorithm_for(key: SigningKey, hash_name: str) -> str:
    family = "rsa" if isinstance(key, rsa.RSAPrivateKey) else "ecdsa"
    return f"{family}-{hash_name}"


def sign_request(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    key: SigningKey,
    certificate: x509.Certificate,
    *,
    hash_name: str = "sha256",
) -> dict[str, str]:
    """The `Digest`, `Signature` and `TPP-Signature-Certificate` headers for this request.

    `headers` are the request's other headers (X-Request-ID, PSU-ID, ...); those the profile
    needs signed are signed, with the new Digest.
    """
    digest = digest_header(body, "SHA-512" if hash_name == "sha512" else "SHA-256")
    all_headers = {**_lower(headers), "digest": digest}
    names = headers_to_sign(all_headers)
    algorithm = _algorithm_for(key, hash_name)
    data = signing_string(names, method, target, all_headers)
    hash_algorithm = _ALGORITHMS[algorithm][1]()
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, padding.PKCS1v15(), hash_algorithm)
    else:
        signature = key.sign(data, ec.ECDSA(hash_algorithm))
    params = SignatureParams(KeyId.of(certificate), algorithm, names, signature)
    der = certificate.public_bytes(serialization.Encoding.DER)
    return {
        "Digest": digest,
        "Signature": params.to_header(),
        "TPP-Signature-Certificate": base64.b64encode(der).decode("ascii"),
    }


def read_signature_certificate(value: str) -> x509.Certificate:
    """The certificate of a `TPP-Signature-Certificate` header (base64 DER, or PEM)."""
    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            return x509.load_pem_x509_certificate(text.encode("ascii"))
        return x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise CertificateInvalid("TPP-Signature-Certificate is not a certificate") from None


def verify_request_signature(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    certificate: x509.Certificate,
) -> SignatureParams:
    """Accept the request's signature made with `certificate`'s key, or raise.

    Checks, in order: Signature and Digest present, Digest matches the body, the signature
    covers the headers the profile requires, keyId names `certificate`, the signature verifies.
    """
    lowered = _lower(headers)
    for name in ("signature", "digest"):
        if not lowered.get(name, "").strip():
            raise SignatureMissing(f"the {name.capitalize()} header is missing")
    check_digest(lowered["digest"], body)
    params = parse_signature_header(lowered["signature"])
    required = ALWAYS_SIGNED + tuple(n for n in SIGNED_WHEN_PRESENT if n in lowered)
    unsigned = [n for n in required if n not in params.headers]
    if unsigned:
        raise SignatureInvalid(f"the signature must cover {', '.join(unsigned)}")
    if not params.key_id.names(certificate):
        raise SignatureInvalid("keyId does not name the TPP-Signature-Certificate")
    data = signing_string(params.headers, method, target, lowered)
    _verify(params, certificate, data)
    return params


def _verify(params: SignatureParams, certificate: x509.Certificate, data: bytes) -> None:
    family, hash_type = _ALGORITHMS[params.algorithm]
    key = certificate.public_key()
    if family == "rsa" and isinstance(key, rsa.RSAPublicKey):
        try:
            key.verify(params.signature, data, padding.PKCS1v15(), hash_type())
            return
        except InvalidSignature:
            raise SignatureInvalid("the signature does not verify") from None
    if family == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
        for candidate in [params.signature, *_raw_ecdsa_as_der(params.signature, key)]:
            try:
                key.verify(candidate, data, ec.ECDSA(hash_type()))
                return
            except InvalidSignature:
                continue
        raise SignatureInvalid("the signature does not verify")
    raise SignatureInvalid(f"algorithm {params.algorithm} does not fit the certificate's key")


def _raw_ecdsa_as_der(signature: bytes, key: ec.EllipticCurvePublicKey) -> list[bytes]:
    size = (key.curve.key_size + 7) // 8
    if len(signature) != 2 * size:
        return []
    r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    return [encode_dss_signature(r, s)]
