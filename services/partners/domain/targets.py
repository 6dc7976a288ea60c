"""Where a webhook may point: public addresses only. Pure.

A partner's webhook makes the platform send HTTP requests, so without this rule a partner could reach what only
the platform reaches: loopback ports, the private network, the cloud's metadata service (169.254.169.254,
metadata.google.internal, fd00:ec2::254). Refused: loopback, private, link-local, shared, reserved, multicast and
unspecified addresses, in any spelling (IPv4-mapped, 6to4, NAT64 and Teredo IPv6 hide an IPv4 address), and
names that only mean something inside (localhost, *.internal, *.local). An operator allows a target explicitly
(`PARTNERNET_WEBHOOK_ALLOWED_TARGETS`: names, addresses, networks) for tests and on-premise partners.

The rule holds for the address the name resolves to, when the webhook is registered or changed and again when
each delivery connects (DNS can change), and the delivery goes to the address that was checked.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import InvalidInput

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# One answer for every refused target: whether it exists, listens or speaks HTTP is nobody's business.
REFUSED = "a webhook needs a public https:// endpoint; this URL is not allowed"
INTERNAL_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "metadata.goog", "instance-data"})
INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".intranet", ".lan")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


@dataclass(frozen=True)
class TargetPolicy:
    """The operator's exceptions: names (exact, lower case) and networks a webhook may reach though internal."""

    names: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: tuple[str, ...] | list[str]) -> TargetPolicy:
        names, networks = set(), []
        for entry in (e.strip().lower().rstrip(".") for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry)
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return normal_host(host) in self.names

    def allows_address(self, address: Address) -> bool:
        return any(address in network for network in self.networks if network.version == address.version)


def normal_host(host: str) -> str:
    return host.strip().lower().rstrip(".").strip("[]")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, where it stands for one."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None  # the old IPv4-compatible ::a.b.c.d lie in ::/8, reserved: internal anyway


def is_internal(address: Address) -> bool:
    """Anything but a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_internal(inner)
        if address in NAT64_LOCAL:
            return True
    return not address.is_global or address.is_multicast or address.is_unspecified or address.is_reserved


def literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(normal_host(host))
    except ValueError:
        return None


def check_endpoint_url(url: str, policy: TargetPolicy) -> str:
    """The URL's host, if the URL may be a webhook's: HTTPS (plain HTTP only for a target the operator allowed),
    no credentials, and no internal name or address. Its resolved addresses are checked with `check_addresses`."""
    parts = urlsplit(url)
    try:
        host, _ = parts.hostname, parts.port  # a port that is not one raises ValueError
    except ValueError:
        raise InvalidInput(REFUSED) from None
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidInput(f"a webhook needs an absolute https:// URL, not {url!r}")
    if parts.username or parts.password:
        raise InvalidInput("a webhook URL may not carry credentials; deliveries are signed instead")
    address = literal_address(host)
    allowed = policy.allows_name(host) or (address is not None and policy.allows_address(address))
    if allowed:
        return host
    if parts.scheme == "http":
        raise InvalidInput("a webhook URL must use https://")
    name = normal_host(host)
    if address is not None and is_internal(address):
        raise InvalidInput(REFUSED)
    if address is None and ("." not in name or name in INTERNAL_NAMES or name.endswith(INTERNAL_SUFFIXES)):
        raise InvalidInput(REFUSED)
    return host


def check_addresses(host: str, addresses: list[Address], policy: TargetPolicy) -> None:
    """Every address the host resolved to must be public (or allowed): one internal answer among public ones is
    how DNS rebinding gets in."""
    if policy.allows_name(host):
        return
    for address in addresses:
        if is_internal(address) and not policy.allows_address(address):
            raise InvalidInput(REFUSED)
