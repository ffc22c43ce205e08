"""Signature verification of Chatwoot deliveries: HMAC-SHA256 over "<timestamp>.<raw body>"."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatwoot_integration.webhooks.signature import (
    InvalidSignature,
    SignatureFailure,
    check_signature,
    sign,
    verify_legacy_token,
    verify_signature,
)
from tests.fixtures.chatwoot_payloads import load_fixture, raw_body, webhook_headers

SECRET = "kF3v9QmZ7xT2pL8sW4nR6bY1"
PREVIOUS_SECRET = "old-Hc5Jd8Ke2Mf7Ng4Ph1Qi"
NOW = 1_781_691_200.0
TIMESTAMP = "1781691200"
BODY = raw_body(load_fixture("message_created_incoming"))


def _reason(
    secret: str | list[str],
    timestamp: str | None,
    signature: str | None,
    body: bytes = BODY,
    *,
    now: float = NOW,
) -> SignatureFailure:
    with pytest.raises(InvalidSignature) as caught:
        check_signature(secret, timestamp, signature, body, now=now)
    return caught.value.reason


def test_known_vector_matches_chatwoot_algorithm() -> None:
    # Given the digest OpenSSL gives for HMAC-SHA256("secret", '1700000000.{"event":"x"}'),
    # which is what lib/webhooks/trigger.rb computes
    expected = "sha256=ca458d767c4041a70394d25abfdb6d6bc3777d2044b7dcf28fcc31911996fde4"

    # When / Then: the timestamp may be given as text or as an integer
    assert sign("secret", "1700000000", b'{"event":"x"}') == expected
    assert sign("secret", 1700000000, b'{"event":"x"}') == expected
    assert sign(b"secret", "1700000000", b'{"event":"x"}') == expected


def test_headers_built_like_chatwoot_verify() -> None:
    headers = webhook_headers(BODY, SECRET, int(TIMESTAMP))

    ok = verify_signature(SECRET, headers["X-Chatwoot-Timestamp"], headers["X-Chatwoot-Signature"], BODY, now=NOW)

    assert ok is True


def test_valid_signature_passes_check_without_raising() -> None:
    check_signature(SECRET, TIMESTAMP, sign(SECRET, TIMESTAMP, BODY), BODY, now=NOW)


def test_uppercase_hex_digest_is_accepted() -> None:
    signature = "sha256=" + sign(SECRET, TIMESTAMP, BODY).removeprefix("sha256=").upper()

    assert verify_signature(SECRET, TIMESTAMP, signature, BODY, now=NOW) is True


def test_bytes_secret_is_used_as_is() -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)

    assert verify_signature(SECRET.encode(), TIMESTAMP, signature, BODY, now=NOW) is True


def test_body_changed_by_one_byte_is_rejected() -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)
    tampered = BODY.replace(b"charged twice", b"charged Twice", 1)
    assert tampered != BODY
    one_byte = bytearray(BODY)
    one_byte[10] ^= 0x01

    assert _reason(SECRET, TIMESTAMP, signature, bytes(one_byte)) is SignatureFailure.BAD_SIGNATURE
    assert _reason(SECRET, TIMESTAMP, signature, tampered) is SignatureFailure.BAD_SIGNATURE


def test_reserialised_json_does_not_verify() -> None:
    # Chatwoot signs the exact bytes it sent; pretty-printing the same document changes them.
    signature = sign(SECRET, TIMESTAMP, BODY)
    pretty = json.dumps(json.loads(BODY), indent=2).encode()

    assert verify_signature(SECRET, TIMESTAMP, signature, pretty, now=NOW) is False


def test_wrong_secret_is_rejected() -> None:
    signature = sign("another-webhook-secret", TIMESTAMP, BODY)

    assert _reason(SECRET, TIMESTAMP, signature) is SignatureFailure.BAD_SIGNATURE


def test_signature_for_another_timestamp_is_rejected() -> None:
    signature = sign(SECRET, "1781691199", BODY)

    assert _reason(SECRET, TIMESTAMP, signature) is SignatureFailure.BAD_SIGNATURE


@pytest.mark.parametrize("offset", [301, 3600, -301, -86400])
def test_timestamp_outside_tolerance_is_stale(offset: int) -> None:
    # Given a correctly signed delivery whose timestamp is too old (positive) or in the future (negative)
    timestamp = str(int(NOW) - offset)
    signature = sign(SECRET, timestamp, BODY)

    assert _reason(SECRET, timestamp, signature) is SignatureFailure.STALE_TIMESTAMP


@pytest.mark.parametrize("offset", [300, -300, 0])
def test_timestamp_at_tolerance_edge_is_accepted(offset: int) -> None:
    timestamp = str(int(NOW) - offset)

    assert verify_signature(SECRET, timestamp, sign(SECRET, timestamp, BODY), BODY, now=NOW) is True


def test_custom_tolerance_is_honoured() -> None:
    timestamp = str(int(NOW) - 60)
    signature = sign(SECRET, timestamp, BODY)

    assert verify_signature(SECRET, timestamp, signature, BODY, now=NOW, tolerance_seconds=30) is False
    assert verify_signature(SECRET, timestamp, signature, BODY, now=NOW, tolerance_seconds=60) is True


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [(None, "sha256=" + "a" * 64), ("", "sha256=" + "a" * 64), (TIMESTAMP, None), (TIMESTAMP, ""), (None, None)],
)
def test_missing_headers_are_rejected(timestamp: str | None, signature: str | None) -> None:
    assert _reason(SECRET, timestamp, signature) is SignatureFailure.MISSING_HEADERS


@pytest.mark.parametrize(
    "timestamp", ["abc", "-1781691200", "+1781691200", "1781691200.5", " 1781691200", "1_781_691_200"]
)
def test_non_integer_timestamp_is_malformed(timestamp: str) -> None:
    assert _reason(SECRET, timestamp, sign(SECRET, timestamp, BODY)) is SignatureFailure.MALFORMED_TIMESTAMP


@pytest.mark.parametrize(
    "transform",
    [
        lambda sig: sig.removeprefix("sha256="),  # bare hex
        lambda sig: sig.replace("sha256=", "sha1="),
        lambda sig: sig.replace("sha256=", "SHA256="),
        lambda sig: sig[:-1],  # 63 hex characters
        lambda sig: sig + "0",  # 65 hex characters
        lambda sig: sig[:-1] + "z",  # not hex
        lambda sig: "sha256=",
    ],
    ids=["no-prefix", "sha1", "uppercase-prefix", "short", "long", "not-hex", "empty-digest"],
)
def test_malformed_signature_is_rejected(transform: object) -> None:
    assert callable(transform)
    signature = transform(sign(SECRET, TIMESTAMP, BODY))

    assert _reason(SECRET, TIMESTAMP, signature) is SignatureFailure.MALFORMED_SIGNATURE


def test_previous_secret_is_accepted_during_rotation() -> None:
    signed_with_old = sign(PREVIOUS_SECRET, TIMESTAMP, BODY)
    signed_with_new = sign(SECRET, TIMESTAMP, BODY)

    assert verify_signature([SECRET, PREVIOUS_SECRET], TIMESTAMP, signed_with_old, BODY, now=NOW) is True
    assert verify_signature([SECRET, PREVIOUS_SECRET], TIMESTAMP, signed_with_new, BODY, now=NOW) is True


def test_secret_outside_the_rotation_set_is_rejected() -> None:
    signature = sign("retired-long-ago", TIMESTAMP, BODY)

    assert _reason([SECRET, PREVIOUS_SECRET], TIMESTAMP, signature) is SignatureFailure.BAD_SIGNATURE


@pytest.mark.parametrize("secrets", [[], [""], ""])
def test_empty_secret_never_verifies(secrets: str | list[str]) -> None:
    # Chatwoot does not sign with a blank secret, so a blank configured secret must not accept anything.
    signature = sign("", TIMESTAMP, BODY)

    assert _reason(secrets, TIMESTAMP, signature) is SignatureFailure.BAD_SIGNATURE


def test_reason_codes_are_the_metric_names() -> None:
    assert [reason.value for reason in SignatureFailure] == [
        "missing_headers",
        "malformed_timestamp",
        "stale_timestamp",
        "malformed_signature",
        "bad_signature",
    ]


def test_invalid_signature_message_carries_reason_but_no_secret() -> None:
    with pytest.raises(InvalidSignature) as caught:
        check_signature(SECRET, TIMESTAMP, sign("nope", TIMESTAMP, BODY), BODY, now=NOW)

    assert "bad_signature" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_legacy_token_right_token_is_accepted() -> None:
    assert verify_legacy_token("3f9c2d7e-long-random-url-token", "3f9c2d7e-long-random-url-token") is True


@pytest.mark.parametrize(
    ("expected", "given"),
    [
        ("3f9c2d7e-long-random-url-token", "3f9c2d7e-long-random-url-tokeN"),
        ("3f9c2d7e-long-random-url-token", "3f9c2d7e"),
        ("3f9c2d7e-long-random-url-token", ""),
        ("3f9c2d7e-long-random-url-token", None),
        ("", ""),
        (None, None),
        (None, "anything"),
        ("", "anything"),
    ],
)
def test_legacy_token_wrong_or_empty_is_rejected(expected: str | None, given: str | None) -> None:
    assert verify_legacy_token(expected, given) is False


def test_legacy_token_with_non_ascii_characters_compares_without_error() -> None:
    assert verify_legacy_token("tökén", "tökén") is True
    assert verify_legacy_token("tökén", "token") is False


_secrets = st.text(min_size=1, max_size=40)
_bodies = st.binary(min_size=1, max_size=512)
_skews = st.integers(min_value=-300, max_value=300)


@settings(derandomize=True, deadline=None, max_examples=150)
@given(secret=_secrets, body=_bodies, skew=_skews)
def test_property_sign_then_verify_accepts(secret: str, body: bytes, skew: int) -> None:
    timestamp = str(int(NOW) + skew)

    assert verify_signature(secret, timestamp, sign(secret, timestamp, body), body, now=NOW) is True


@settings(derandomize=True, deadline=None, max_examples=150)
@given(secret=_secrets, body=_bodies, data=st.data())
def test_property_any_one_byte_change_rejects(secret: str, body: bytes, data: st.DataObject) -> None:
    signature = sign(secret, TIMESTAMP, body)
    position = data.draw(st.integers(min_value=0, max_value=len(body) - 1), label="position")
    replacement = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != body[position]))
    changed = bytearray(body)
    changed[position] = replacement

    assert verify_signature(secret, TIMESTAMP, signature, bytes(changed), now=NOW) is False
