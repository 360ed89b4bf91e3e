"""Refusing webhook URLs that point inside the network (server-side request forgery).

A URL is resolved once and every address it resolves to is checked: loopback, private,
link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254 included), unspecified,
multicast, reserved and shared (100.64.0.0/10) addresses are refused, IPv4-mapped IPv6 by the
IPv4 address inside, unless the host or the address is in ``webhooks.allowed_hosts``. The check
returns the address it approved and the sender connects to exactly that address, so a second
DNS answer (rebinding) cannot move the request elsewhere after the check.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from driftline.core.errors import FieldProblem, InvalidInputError

__all__ = ["Resolver", "Target", "UnsafeUrlError", "blocked_reason", "check_url"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple[Any, ...]]]

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT; not "private" to Python
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrlError(InvalidInputError):
    """The URL is malformed or reaches an address webhooks may not call."""

    def __init__(self, reason: str, field: str = "url") -> None:
        super().__init__(f"{field}: {reason}", [FieldProblem(field, reason)])
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Target:
    """Where one request goes: the URL's parts and the checked address to connect to."""

    scheme: str
    host: str  # as written in the URL, for the Host header and TLS SNI
    port: int
    path: str  # path and query
    address: str  # the checked IP

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def blocked_reason(address: IpAddress) -> str | None:
    """Why ``address`` is internal, or None when webhooks may reach it.

    >>> blocked_reason(ipaddress.ip_address("169.254.169.254"))
    'link-local'
    >>> blocked_reason(ipaddress.ip_address("::ffff:10.0.0.1"))
    'private'
    >>> blocked_reason(ipaddress.ip_address("93.184.215.14")) is None
    True
    """
    if isinstance(address, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address reach that address: judge it instead.
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in _NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        elif address.sixtofour is not None:
            address = address.sixtofour
    checks = [
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("shared address space", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
        ("not globally routable", not address.is_global),
    ]
    return next((name for name, hit in checks if hit), None)


def _allowed(host: str, address: IpAddress, allowed_hosts: Sequence[str]) -> bool:
    for entry in allowed_hosts:
        entry = entry.strip().lower()
        if entry == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a hostname entry that is not this host
    return False


def _parse(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError(f"is not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrlError(f"scheme {scheme or '(none)'!r} is not allowed; use http or https")
    if not parts.hostname:
        raise UnsafeUrlError("has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError("must not contain credentials; use custom headers instead")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def check_url(
    url: str, allowed_hosts: Sequence[str], *, resolver: Resolver | None = None
) -> Target:
    """The :class:`Target` of ``url``, or :class:`UnsafeUrlError` saying why it is refused.

    ``resolver`` replaces ``socket.getaddrinfo`` (tests).
    """
    scheme, host, port, path = _parse(url)
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IpAddress] = [literal]
    else:
        try:
            infos = (resolver or socket.getaddrinfo)(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise UnsafeUrlError(f"host {host!r} cannot be resolved ({exc})") from exc
        # Scope ids ("fe80::1%eth0") are dropped; the bare address is what is checked.
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses:
            raise UnsafeUrlError(f"host {host!r} resolves to no address")
    for address in addresses:
        # Every answer must pass: otherwise a name with one public and one internal record
        # could be approved and then reached on the internal one.
        reason = blocked_reason(address)
        if reason is not None and not _allowed(host, address, allowed_hosts):
            shown = host if literal is not None else f"{host} ({address})"
            raise UnsafeUrlError(
                f"{shown} is refused ({reason} address); add it to "
                "DRIFTLINE_WEBHOOKS__ALLOWED_HOSTS to allow an on-premises receiver"
            )
    return Target(scheme, host, port, path, str(addresses[0]))
