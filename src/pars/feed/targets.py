"""Where a webhook may go (``PARS_WEBHOOK_PRIVATE_TARGETS``, CONTRACT §1 and §9).

A partner chooses the URL, so without a check the worker would POST wherever the partner points
it: the database on 127.0.0.1:5432, NATS, a cloud metadata service on 169.254.169.254, a router
on 10.0.0.1. The check is made twice:

- when a subscription is made: the host is resolved, and a host any of whose addresses the
  setting forbids is refused (422);
- on every send, after resolution, by the sender's network backend, which then connects to an
  address it checked, never to the name again: a name that resolved to a public address at
  subscription and to a private one now (DNS rebinding) is caught, and the attempt is recorded
  as ``forbidden_target`` and not sent.

Forbidden unless allowed: every address that is not globally routable (private, loopback,
link-local, shared, unspecified, reserved, documentation), multicast, and the IPv6 forms that
carry an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64), judged by the IPv4 address inside.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence

from pars.settings import PrivateTargets

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# host name → its addresses (as text); raises OSError when the name does not resolve.
Resolver = Callable[[str], Sequence[str]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Not globally reachable, though Python's is_global says otherwise for parts of them.
_NOT_PUBLIC = (ipaddress.IPv4Network("192.0.0.0/24"), ipaddress.IPv4Network("0.0.0.0/8"))


class ForbiddenTarget(Exception):
    """The endpoint's host is, or resolves to, an address the setting forbids."""


def system_resolver(host: str) -> list[str]:
    """The host's addresses, as the system resolver gives them (one lookup, every family)."""
    found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for *_, sockaddr in found:
        text = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone index is no part of the address
        if text not in addresses:
            addresses.append(text)
    return addresses


def _embedded(address: Address) -> list[Address]:
    """The address and any IPv4 address an IPv6 form carries (each judged: the strictest wins)."""
    inside: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            inside.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            inside.append(address.sixtofour)
        if address.teredo is not None:
            inside.extend(address.teredo)
        if address in _NAT64:
            inside.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return inside


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv4Address) and any(address in network for network in _NOT_PUBLIC):
        return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified or address.is_link_local
    )


def _loopback(address: Address) -> bool:
    """127.0.0.0/8, ::1, and ::ffff:127.x.y.z (the same socket as 127.x.y.z)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def allowed(address: Address, policy: PrivateTargets) -> bool:
    """Whether ``policy`` lets a webhook go to ``address``."""
    if policy == PrivateTargets.ALLOW:
        return True
    if policy == PrivateTargets.LOOPBACK and _loopback(address):
        return True
    inside = _embedded(address)
    return all(_public(a) for a in inside)


def parse_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def checked_addresses(host: str, policy: PrivateTargets, resolve: Resolver) -> list[str]:
    """The addresses to connect to for ``host``: every one it resolves to, all allowed.

    Raises ``ForbiddenTarget`` when any is forbidden (a name that resolves to a public and a
    private address is refused as a whole: which one a connection would reach is not ours to
    choose), and ``OSError`` when the name does not resolve."""
    literal = parse_address(host)
    texts = [str(literal)] if literal is not None else list(resolve(host))
    if not texts:
        raise OSError(f"{host} has no address")
    for text in texts:
        address = parse_address(text)
        if address is None or not allowed(address, policy):
            raise ForbiddenTarget(host)
    return texts
