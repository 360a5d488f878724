"""Berlin Group message signatures: what a TPP signs, and what a bank accepts or refuses."""

from __future__ import annotations

import base64
import re
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.openbanking.pki_builders import issue_tpp, new_qtsp
from twinrail.openbanking.domain.errors import (
    CertificateInvalid,
    SignatureInvalid,
    SignatureMissing,
)
from twinrail.openbanking.domain.http_signatures import (
    KeyId,
    check_digest,
    digest_header,
    parse_signature_header,
    read_signature_certificate,
    verify_request_signature,
)
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.openbanking.service.request_signer import RequestSigner

PATH = "/v1/payments/sepa-credit-transfers"
BODY = b'{"instructedAmount": {"currency": "EUR", "amount": "12.50"}}'


@pytest.fixture(scope="module")
def qtsp(tmp_path_factory):
    return new_qtsp(tmp_path_factory.mktemp("sig-pki"))


@pytest.fixture(scope="module", params=["ec", "rsa"])
def qsealc(request, qtsp):
    return issue_tpp(
        qtsp, f"seal-{request.param}", (Psd2Role.PSP_PI,), kind="qsealc", key_type=request.param
    )


@pytest.fixture(scope="module")
def signer(qsealc):
    return RequestSigner.from_issued(qsealc)


def request_headers(**extra: str) -> dict[str, str]:
    return {"X-Request-ID": str(uuid.uuid4()), **{k.replace("_", "-"): v for k, v in extra.items()}}


def signed(signer, headers, body=BODY, method="POST"):
    return {**headers, **signer.headers_for(method, PATH, headers, body)}


def verify(headers, body=BODY, method="POST", cert=None):
    certificate = cert or read_signature_certificate(headers["TPP-Signature-Certificate"])
    return verify_request_signature(method, PATH, headers, body, certificate)


def test_a_signed_request_verifies_with_the_certificate_it_carries(signer):
    headers = signed(signer, request_headers(PSU_ID="alice", TPP_Redirect_URI="https://tpp/ok"))
    params = verify(headers)
    assert params.headers == ("digest", "x-request-id", "psu-id", "tpp-redirect-uri")
    assert params.algorithm in ("ecdsa-sha256", "rsa-sha256")
    assert params.key_id == KeyId.of(signer.certificate)


def test_the_signature_header_has_the_berlin_group_shape(signer):
    headers = signed(signer, request_headers())
    value = headers["Signature"]
    serial = format(signer.certificate.serial_number, "X")
    assert value.startswith(f'keyId="SN={serial},CA=CN=')
    assert 'headers="digest x-request-id"' in value
    assert headers["Digest"] == digest_header(BODY)
    der = base64.b64decode(headers["TPP-Signature-Certificate"])
    carried = read_signature_certificate(headers["TPP-Signature-Certificate"])
    assert carried.public_bytes(serialization.Encoding.DER) == der


def test_a_body_changed_after_signing_fails_the_digest(signer):
    headers = signed(signer, request_headers())
    with pytest.raises(SignatureInvalid, match="Digest does not match"):
        verify(headers, body=BODY.replace(b"12.50", b"99.50"))


def test_a_digest_recomputed_for_a_new_body_fails_the_signature(signer):
    headers = signed(signer, request_headers())
    other = BODY.replace(b"12.50", b"99.50")
    headers["Digest"] = digest_header(other)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(headers, body=other)


def test_a_signed_header_changed_after_signing_fails(signer):
    headers = signed(signer, request_headers(PSU_ID="alice"))
    headers["PSU-ID"] = "bob"
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(headers)


@pytest.mark.parametrize("dropped", ["Signature", "Digest"])
def test_a_missing_signature_or_digest_is_signature_missing(signer, dropped):
    headers = signed(signer, request_headers())
    del headers[dropped]
    with pytest.raises(SignatureMissing):
        verify(headers, cert=signer.certificate)


def test_a_psu_id_left_out_of_the_signed_headers_is_refused(signer):
    headers = signed(signer, request_headers())
    headers["PSU-ID"] = "alice"  # added after signing, so not covered
    with pytest.raises(SignatureInvalid, match="must cover psu-id"):
        verify(headers)


def test_a_key_id_naming_another_certificate_is_refused(signer, qtsp):
    other = issue_tpp(qtsp, "other-seal", (Psd2Role.PSP_PI,), kind="qsealc")
    headers = signed(signer, request_headers())
    with pytest.raises(SignatureInvalid, match="keyId"):
        verify(headers, cert=other.certificate)


def test_a_signature_by_another_key_under_this_key_id_does_not_verify(signer, qtsp):
    family = "rsa" if isinstance(signer.key, rsa.RSAPrivateKey) else "ec"
    seal = issue_tpp(qtsp, f"x-seal-{family}", (Psd2Role.PSP_PI,), kind="qsealc", key_type=family)
    forged = RequestSigner(RequestSigner.from_issued(seal).key, signer.certificate)
    headers = signed(forged, request_headers())
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(headers)


def test_an_algorithm_that_does_not_fit_the_key_is_refused(signer):
    headers = signed(signer, request_headers())
    wrong = "ecdsa-sha256" if isinstance(signer.key, rsa.RSAPrivateKey) else "rsa-sha256"
    headers["Signature"] = re.sub(
        r'algorithm="[^"]+"', f'algorithm="{wrong}"', headers["Signature"]
    )
    with pytest.raises(SignatureInvalid, match="does not fit"):
        verify(headers)


def test_the_spec_example_key_id_with_percent_encoded_spaces_parses():
    key_id = KeyId.parse("SN=9FA1,CA=CN=D-TRUST%20CA%202-1%202015,O=D-Trust%20GmbH,C=DE")
    assert key_id.serial_number == 0x9FA1
    assert key_id.issuer == "CN=D-TRUST CA 2-1 2015,O=D-Trust GmbH,C=DE"


@pytest.mark.parametrize(
    "value",
    [
        'keyId="SN=1,CA=CN=x"',
        'keyId="SN=1,CA=CN=x",headers="digest",signature="%%%"',
        'keyId="nope",headers="digest",signature="AAAA"',
        'keyId="SN=1,CA=CN=x",algorithm="hmac-sha256",headers="digest",signature="AAAA"',
        "garbage",
    ],
)
def test_a_malformed_signature_header_is_signature_invalid(value):
    with pytest.raises(SignatureInvalid):
        parse_signature_header(value)


def test_a_digest_with_no_supported_algorithm_is_refused():
    with pytest.raises(SignatureInvalid, match="no supported algorithm"):
        check_digest("MD5=abc", BODY)


def test_a_sha512_digest_and_signature_verify(qsealc):
    signer = RequestSigner.from_issued(qsealc, hash_name="sha512")
    headers = signed(signer, request_headers())
    assert headers["Digest"].startswith("SHA-512=")
    assert verify(headers).algorithm.endswith("sha512")


def test_a_raw_r_s_ecdsa_signature_is_accepted(qtsp):
    seal = issue_tpp(qtsp, "raw-ec", (Psd2Role.PSP_PI,), kind="qsealc", key_type="ec")
    signer = RequestSigner.from_issued(seal)
    headers = signed(signer, request_headers())
    params = parse_signature_header(headers["Signature"])
    r, s = decode_dss_signature(params.signature)
    raw = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    headers["Signature"] = headers["Signature"].rsplit('signature="', 1)[0] + f'signature="{raw}"'
    assert verify(headers).key_id == KeyId.of(seal.certificate)


def test_a_certificate_header_that_is_not_a_certificate_is_certificate_invalid():
    with pytest.raises(CertificateInvalid):
        read_signature_certificate(base64.b64encode(b"not a certificate").decode())


@settings(max_examples=25, deadline=None)
@given(body=st.binary(max_size=512), flip=st.integers(min_value=0, max_value=511))
def test_any_body_verifies_and_any_flipped_byte_is_caught(qtsp, body, flip):
    signer = _ec_signer(qtsp)
    headers = signed(signer, request_headers(), body=body)
    verify(headers, body=body)
    if body:
        index = flip % len(body)
        tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        with pytest.raises(SignatureInvalid):
            verify(headers, body=tampered)


_SIGNERS: dict[str, RequestSigner] = {}


def _ec_signer(qtsp) -> RequestSigner:
    if "ec" not in _SIGNERS:
        seal = issue_tpp(qtsp, "prop-ec", (Psd2Role.PSP_PI,), kind="qsealc")
        _SIGNERS["ec"] = RequestSigner.from_issued(seal)
    return _SIGNERS["ec"]
