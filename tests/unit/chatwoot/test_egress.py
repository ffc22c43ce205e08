"""The guard on where the Chatwoot client may connect (SSRF): when a URL is entered, and on every connection."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import ClassVar

import httpx
import pytest

from chatwoot_integration.chatwoot.egress import (
    EgressPolicy,
    EgressRefused,
    check_base_url,
    normalise_base_url,
)
from chatwoot_integration.chatwoot.http import guarded_client

PUBLIC = "93.184.215.14"
STRICT = EgressPolicy()
LOCAL = EgressPolicy.from_text(True, "127.0.0.0/8, ::1")


def resolver(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    return resolve


def refused(url: str, policy: EgressPolicy = STRICT, **answers: list[str]) -> str:
    with pytest.raises(EgressRefused) as caught:
        check_base_url(url, policy, resolve=resolver({k.replace("_", "."): v for k, v in answers.items()}))
    return str(caught.value)


def test_a_public_https_host_passes_and_comes_back_normalised() -> None:
    resolve = resolver({"chat.firm.example": [PUBLIC]})
    assert check_base_url("HTTPS://Chat.Firm.Example:443/base/", STRICT, resolve=resolve) == (
        "https://chat.firm.example/base"
    )


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://chat.example.com/", "https://chat.example.com"),
        ("https://chat.example.com:8443", "https://chat.example.com:8443"),
        ("http://chat.example.com:80/x/", "http://chat.example.com/x"),
        ("https://[2606:4700::1111]:443", "https://[2606:4700::1111]"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_normalisation(url: str, normal: str) -> None:
    assert normalise_base_url(url) == normal


@pytest.mark.parametrize(
    "url",
    ["ftp://chat.example.com", "https://user:pass@chat.example.com", "https://chat.example.com/?a=1", "https://"],
)
def test_what_is_not_a_base_url_is_refused(url: str) -> None:
    with pytest.raises(EgressRefused):
        normalise_base_url(url)


def test_http_is_refused_unless_the_operator_allows_it() -> None:
    assert "http is not allowed" in refused("http://chat.firm.example", chat_firm_example=[PUBLIC])
    allowing = EgressPolicy(allow_http=True)
    assert check_base_url("http://chat.firm.example", allowing, resolve=resolver({"chat.firm.example": [PUBLIC]}))


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254",
        "https://[fd00:ec2::254]",
        "https://[::ffff:169.254.169.254]",
        "https://[::ffff:a9fe:a9fe]",
        "https://2852039166",
        "https://0251.0376.0251.0376",
        "https://0xA9FEA9FE",
        "https://169.254.170.2",
        "https://169.254.170.23",
        "https://[fd00:ec2::23]",
        "https://[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
        "https://[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
    ],
)
def test_metadata_addresses_are_refused_even_when_listed(url: str) -> None:
    everything = EgressPolicy.from_text(True, "0.0.0.0/0 ::/0 169.254.0.0/16")
    assert "metadata" in refused(url, everything)
    assert "metadata" in refused(url.replace("https", "http"), everything)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://169.254.10.1", "link-local"),
        ("https://[fe80::1]", "link-local"),
        ("https://127.0.0.1", "loopback"),
        ("https://127.1", "loopback"),
        ("https://[::1]", "loopback"),
        ("https://10.0.0.5", "private"),
        ("https://172.16.3.4", "private"),
        ("https://192.168.1.10", "private"),
        ("https://[fc00::5]", "private"),
        ("https://100.64.1.1", "shared (CGNAT)"),
        ("https://0.0.0.0", "unspecified"),
        ("https://[::ffff:10.0.0.5]", "private"),
        ("https://167772165", "private"),  # 10.0.0.5 spelled as one number
    ],
)
def test_internal_addresses_are_refused_unless_listed(url: str, kind: str) -> None:
    assert f"a {kind} address" in refused(url)
    listed = EgressPolicy.from_text(
        False,
        "127.0.0.0/8 ::1 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7 "
        "fe80::/10 169.254.0.0/16 100.64.0.0/10 0.0.0.0/32",
    )
    assert check_base_url(url, listed)


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    assert "loopback" in refused("https://localhost", localhost=["127.0.0.1", "::1"])
    assert "private" in refused("https://chat.firm.example", chat_firm_example=[PUBLIC, "10.1.2.3"])
    assert "does not resolve" in refused("https://nowhere.example")
    by_name = EgressPolicy.from_text(False, "chatwoot.internal")
    resolve = resolver({"chatwoot.internal": ["10.1.2.3"]})
    assert check_base_url("https://chatwoot.internal", by_name, resolve=resolve) == "https://chatwoot.internal"


def test_a_bad_allow_list_entry_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a host name, address or CIDR"):
        EgressPolicy.from_text(False, "10.0.0.0/8, not a host!")


# At connection time ----------------------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def local_server() -> Iterator[tuple[int, list[str]]]:
    paths: list[str] = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("R", (_Recorder,), {"paths": paths}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], paths
    finally:
        server.shutdown()
        server.server_close()


def test_the_client_refuses_to_connect_where_the_policy_forbids_and_nothing_is_sent(
    local_server: tuple[int, list[str]],
) -> None:
    port, paths = local_server
    with guarded_client(EgressPolicy(allow_http=True)) as client, pytest.raises(EgressRefused, match="loopback"):
        client.get(f"http://127.0.0.1:{port}/api")
    assert paths == []
    with guarded_client(LOCAL) as client:
        assert client.get(f"http://127.0.0.1:{port}/api").json() == {"ok": True}
    assert paths == ["/api"]


def test_redirects_are_not_followed(local_server: tuple[int, list[str]]) -> None:
    port, paths = local_server
    with guarded_client(LOCAL) as client:
        response = client.get(f"http://127.0.0.1:{port}/redirect")
    assert response.status_code == 302
    assert paths == ["/redirect"]  # the target was never asked for


def test_a_name_that_changes_its_answer_after_the_check_cannot_reach_a_refused_address(
    local_server: tuple[int, list[str]],
) -> None:
    """DNS rebinding: public when the URL is entered, loopback when the client connects."""
    port, paths = local_server
    answers = iter([[PUBLIC], ["127.0.0.1"], ["127.0.0.1"]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    policy = EgressPolicy(allow_http=True)
    url = f"http://rebind.example:{port}"
    assert check_base_url(url, policy, resolve=rebinding) == url
    with guarded_client(policy, resolve=rebinding) as client, pytest.raises(EgressRefused, match="loopback"):
        client.get(f"{url}/api")
    assert paths == []


def test_the_connection_goes_to_the_address_that_was_judged(local_server: tuple[int, list[str]]) -> None:
    port, paths = local_server
    resolve = resolver({"chatwoot.internal": ["127.0.0.1"]})
    policy = EgressPolicy.from_text(True, "127.0.0.1/32")
    with guarded_client(policy, resolve=resolve) as client:
        response = client.get(f"http://chatwoot.internal:{port}/api")
    assert response.json() == {"ok": True}
    assert response.request.headers["host"] == f"chatwoot.internal:{port}"  # the name, not the address
    assert paths == ["/api"]


def test_an_unreachable_listed_address_is_a_connect_error_not_a_refusal() -> None:
    with guarded_client(LOCAL) as client, pytest.raises(httpx.ConnectError):
        client.get("http://127.0.0.1:9/api")
