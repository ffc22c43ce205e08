"""Where the Chatwoot client may connect: a guard against server-side request forgery.

A firm's admin enters the base URL of its (often self-hosted) Chatwoot, and the system then sends that firm's API
token there. So the URL must not point into the system's own network: it is ``https`` unless the operator allows
``http``, and its host must not be, or resolve to, a loopback, link-local, private, shared (CGNAT), unspecified,
multicast or reserved address, unless the operator lists it (a self-hosted Chatwoot in the same VPC is
legitimate). The cloud metadata addresses are refused always, listed or not.

The check runs twice: when the URL is entered (:func:`check_base_url`, for a clear 400), and on every connection
(:class:`GuardedBackend`), because DNS can change after the check. The connection-time check resolves the name,
judges every address and connects to an address it judged, so a second, different answer from DNS (rebinding)
cannot slip between the check and the connection; TLS still verifies the certificate against the host name.
Redirects are never followed (the shared HTTP client is built with ``follow_redirects=False``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
"""``(host, port)`` → the addresses the host resolves to, as text."""

# Instance metadata and credential services (AWS IPv4 and IPv6, the ECS task endpoint, the EKS pod identity
# agent): never a Chatwoot.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("169.254.170.2"),
        ipaddress.ip_address("169.254.170.23"),
        ipaddress.ip_address("fd00:ec2::23"),
    }
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, not covered by is_private
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class EgressRefused(ValueError):
    """The URL or address may not be reached; the message says why and is safe to show an admin."""


@dataclass(frozen=True)
class EgressPolicy:
    """What the operator allows beyond public https hosts: ``http``, and listed hosts or networks."""

    allow_http: bool = False
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_text(cls, allow_http: bool, allowed: str) -> EgressPolicy:
        """``allowed`` lists host names and CIDRs (or single addresses), separated by commas or spaces."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in allowed.replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if not _is_host_name(entry):
                    raise ValueError(f"not a host name, address or CIDR: {entry!r}") from None
                hosts.add(entry.lower().rstrip("."))
        return cls(allow_http=allow_http, allowed_hosts=frozenset(hosts), allowed_networks=tuple(networks))

    def judge(self, address: IPAddress, host: str) -> str | None:
        """Why ``address`` (of ``host``) may not be reached, or None when it may."""
        if isinstance(address, ipaddress.IPv6Address):
            inner = address.ipv4_mapped or address.sixtofour or _nat64(address) or _ipv4_compatible(address)
            if inner is not None:
                return self.judge(inner, host)
        if address in METADATA_ADDRESSES:
            return f"{address} is a cloud metadata address, which is always refused"
        kind = _special_kind(address)
        if kind is None:
            return None
        if host.lower().rstrip(".") in self.allowed_hosts or any(address in n for n in self.allowed_networks):
            return None
        return f"{host} is or resolves to a {kind} address ({address}); list it in the allowed networks to permit it"


def normalise_base_url(url: str) -> str:
    """The URL as stored and compared: scheme and host lower-cased, no default port, no trailing slash."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise EgressRefused("base_url must start with https:// (or http:// where the operator allows it)")
    if parts.username is not None or parts.password is not None:
        raise EgressRefused("base_url must not carry a user name or password")
    if parts.query or parts.fragment:
        raise EgressRefused("base_url must not carry a query or a fragment")
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise EgressRefused(f"base_url has an invalid port: {exc}") from None
    if not host:
        raise EgressRefused("base_url has no host")
    try:
        host = host.encode("idna").decode("ascii") if not _is_ip_literal(host) else host
    except UnicodeError:
        raise EgressRefused("base_url has a host name that is not valid") from None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def check_base_url(url: str, policy: EgressPolicy, *, resolve: Resolver | None = None) -> str:
    """The normalised URL if the client may send requests there; :class:`EgressRefused` saying why not."""
    normalised = normalise_base_url(url)
    parts = urlsplit(normalised)
    if parts.scheme == "http" and not policy.allow_http:
        raise EgressRefused("base_url must use https (http is not allowed by the operator)")
    host = parts.hostname or ""
    checked_addresses(host, parts.port or _DEFAULT_PORTS[parts.scheme], policy, resolve=resolve)
    return normalised


def checked_addresses(host: str, port: int, policy: EgressPolicy, *, resolve: Resolver | None = None) -> list[str]:
    """Every address ``host`` resolves to, each one judged; :class:`EgressRefused` if any may not be reached."""
    literal = _literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in (resolve or system_resolver)(host, port)]
        except (OSError, ValueError) as exc:
            raise EgressRefused(f"{host} does not resolve ({type(exc).__name__})") from None
        if not addresses:
            raise EgressRefused(f"{host} does not resolve")
    for address in addresses:
        reason = policy.judge(address, host)
        if reason is not None:
            raise EgressRefused(reason)
    return [str(a) for a in addresses]


def system_resolver(host: str, port: int) -> list[str]:
    """The C resolver's answers, as a connection would get them."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses the policy allows, and to exactly those it judged."""

    def __init__(self, policy: EgressPolicy, resolve: Resolver | None = None) -> None:
        self._policy = policy
        self._resolve = resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = checked_addresses(host, port, self._policy, resolve=self._resolve)
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last


def _special_kind(address: IPAddress) -> str | None:
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("shared (CGNAT)", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
        ("private", address.is_private),
        ("reserved", address.is_reserved or not address.is_global),
    )
    return next((kind for kind, matches in checks if matches), None)


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 gateway would connect to for ``64:ff9b::a.b.c.d``."""
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _ipv4_compatible(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address of a deprecated IPv4-compatible IPv6 address (``::a.b.c.d``), except ``::`` and ``::1``."""
    value = int(address)
    if value >> 32 == 0 and value > 1:
        return ipaddress.IPv4Address(value)
    return None


def _literal_address(host: str) -> IPAddress | None:
    """The address a host literal stands for, read as the C resolver reads it (``2852039166``, ``0251.0376.0251.0376``
    and ``0xA9FEA9FE`` are all 169.254.169.254)."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def _is_ip_literal(host: str) -> bool:
    return _literal_address(host) is not None


def _is_host_name(text: str) -> bool:
    labels = text.rstrip(".").split(".")
    return all(0 < len(label) <= 63 and label.replace("-", "").isalnum() for label in labels)
