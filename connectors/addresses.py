"""Which resolved addresses the fetcher may connect to: public ones; private ones when allowed; metadata never.

An IPv6 address can carry an IPv4 address inside it (IPv4-mapped and -compatible forms, SIIT, NAT64, 6to4, Teredo),
and a network that routes the IPv6 form delivers the packet to the IPv4 host: on a NAT64/DNS64 network
`64:ff9b::a9fe:a9fe` is 169.254.169.254. So the embedded IPv4 addresses are decoded and judged by the IPv4 rules,
and an address is public only when it and everything embedded in it is. `ipaddress`'s `is_global` alone is not
enough: on Python 3.11 it calls `::7f00:1`, `64:ff9b::7f00:1`, `2002:7f00:1::` and `fec0::1` global.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

# Cloud metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba): refused even when private networks are allowed.
METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)
# IPv4 networks that are never public, whatever `is_global` says on a given Python version.
_IPV4_NOT_PUBLIC = tuple(
    IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # the 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",  # reserved, and the broadcast address
    )
)
_IPV6_NOT_PUBLIC = tuple(
    IPv6Network(net)
    for net in (
        "::/128",
        "::1/128",
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated, still routed on some intranets)
        "ff00::/8",  # multicast
    )
)
# IPv6 prefixes with an IPv4 address in their last 32 bits.
_LOW32 = tuple(
    IPv6Network(net)
    for net in (
        "::ffff:0:0/96",  # IPv4-mapped
        "::/96",  # IPv4-compatible (deprecated; :: and ::1 are judged as IPv6)
        "::ffff:0:0:0/96",  # SIIT "IPv4-translated"
        "64:ff9b::/96",  # NAT64, the well-known prefix
    )
)
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")  # NAT64, local-use: the operator picks the prefix length
_SIX_TO_FOUR = IPv6Network("2002::/16")
_TEREDO = IPv6Network("2001::/32")


def address_allowed(address: str, allow_private: bool) -> bool:
    """Whether a resolved address may be contacted: public always, private only when allowed, metadata never."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    judged = judged_addresses(ip)
    if any(one in METADATA or one.is_multicast or one.is_unspecified for one in judged):
        return False
    if all(_public(one) for one in judged):
        return True
    return allow_private


def judged_addresses(ip: IPv4Address | IPv6Address) -> list[IPv4Address | IPv6Address]:
    """The addresses whose rules decide for `ip`: itself, and every IPv4 address it may deliver to.

    An address of a translation prefix (mapped, compatible, SIIT, NAT64) is only a way of writing an IPv4 address:
    that address alone decides (so NAT64 networks still reach public IPv4 feeds). 6to4 and Teredo addresses are IPv6
    hosts reached through IPv4 ones: both decide.
    """
    if isinstance(ip, IPv4Address) or ip in (IPv6Address("::"), IPv6Address("::1")):
        return [ip]
    value = int(ip)
    if any(ip in net for net in _LOW32):
        return [IPv4Address(value & 0xFFFFFFFF)]
    if ip in _NAT64_LOCAL:
        # The operator picks the prefix length: every RFC 6052 layout (/48, /56, /64, /96; bits 64-71 are zero,
        # the IPv4 address goes round them) is a candidate, and each must pass.
        candidates = {
            IPv4Address(((value >> 64) & 0xFFFF) << 16 | ((value >> 40) & 0xFFFF)),
            IPv4Address(((value >> 64) & 0xFF) << 24 | ((value >> 32) & 0xFFFFFF)),
            IPv4Address((value >> 24) & 0xFFFFFFFF),
            IPv4Address(value & 0xFFFFFFFF),
            # and the /48 and /56 layouts of a translator that ignores a non-zero u octet
            IPv4Address((value >> 48) & 0xFFFFFFFF),
            IPv4Address((value >> 40) & 0xFFFFFFFF),
        }
        candidates.discard(IPv4Address(0))  # the zeros of a layout the operator did not choose
        return sorted(candidates) or [ip]
    if ip in _SIX_TO_FOUR:
        return [ip, IPv4Address((value >> 80) & 0xFFFFFFFF)]
    if ip in _TEREDO and ip.teredo is not None:
        server, client = ip.teredo  # the client's address de-obfuscated
        return [ip, server, client]
    return [ip]


def _public(ip: IPv4Address | IPv6Address) -> bool:
    """Not in any private, local, reserved or special-purpose range (by our lists and by ipaddress's flags)."""
    if isinstance(ip, IPv4Address):
        if any(ip in net for net in _IPV4_NOT_PUBLIC):
            return False
    elif any(ip in net for net in _IPV6_NOT_PUBLIC):
        return False
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved)
