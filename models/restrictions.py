"""Key restrictions: where a key may be used from, decided when it is used.

A key may carry `allowedCidrs` (networks its caller's address must lie in) and `allowedOrigins`
(web origins its caller's page must have); empty lists mean unrestricted. The lists are stored
normalised (`clean_cidrs`, `clean_origins`), so the check at verification is a parse of the
stored JSON (cached by its text) and a few comparisons.

An origin is a header the caller chooses: origin restrictions are abuse control for public keys
in web pages (a copied key fails in someone else's page), not authentication. Networks are
checked against the address the resource server (or, for keyward's own API, the proxy chain
after TRUSTED_PROXY_HOPS) saw.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from urllib.parse import urlsplit

from models.errors import FieldProblem, InvalidInput

MAX_ENTRIES = 50  # per list: enough for an office, a cloud's egress ranges and a few sites
MAX_ENTRY_LENGTH = 300

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class RestrictionMode(StrEnum):
    ENFORCE = "ENFORCE"
    REPORT_ONLY = "REPORT_ONLY"


class DenialReason(StrEnum):
    IP_NOT_ALLOWED = "IP_NOT_ALLOWED"
    ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED"


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str  # IDNA (punycode), lower case; an IPv6 literal in brackets
    port: int
    wildcard: bool = False  # `*.host`: any subdomain at any depth, not `host` itself

    def __str__(self) -> str:
        if self is OPAQUE_ORIGIN:
            return "null"
        port = "" if _DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        return f"{self.scheme}://{'*.' if self.wildcard else ''}{self.host}{port}"

    def admits(self, caller: Origin) -> bool:
        if (self.scheme, self.port) != (caller.scheme, caller.port):
            return False
        if self.wildcard:
            return caller.host.endswith("." + self.host)
        return caller.host == self.host


# The `Origin: null` of sandboxed frames, file: pages and some redirects: present, but no
# allowed origin admits it.
OPAQUE_ORIGIN = Origin("null", "", 0)


def parse_address(value: str) -> IpAddress:
    """A caller's address; an IPv4-mapped IPv6 one (`::ffff:203.0.113.5`) as its IPv4 address.
    Raises ValueError when it is not an address."""
    address = ipaddress.ip_address(value)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _network(entry: str) -> IpNetwork:
    try:
        network = ipaddress.ip_network(entry.strip(), strict=True)
    except ValueError as error:
        if "has host bits set" in str(error):
            loose = ipaddress.ip_network(entry.strip(), strict=False)
            raise ValueError(f"{entry!r} has host bits set: did you mean {loose}?") from None
        raise ValueError(f"{entry!r} is not an IP address or network.") from None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:  # ::ffff:a.b.c.d/120 is the IPv4 network a.b.c.d/24
            return ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
    return network


def _host(raw: str, entry: str) -> str:
    if raw.startswith("[") and raw.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(raw[1:-1])}]"
        except ValueError:
            raise ValueError(f"{entry!r} has a bad IPv6 address.") from None
    try:
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"{entry!r} has a host name that is not valid.") from None
    if not all(_LABEL.match(label) for label in host.split(".")):
        raise ValueError(f"{entry!r} has a host name that is not valid.")
    return host


def parse_origin(value: str, *, pattern: bool = False, referer: bool = False) -> Origin:
    """`scheme://host[:port]` (http or https), normalised: lower case, IDNA, default port.
    A `pattern` (an allowed origin) may begin its host with `*.`; a caller's (`referer`) may
    carry a path, query and fragment, which are dropped, or be `null` (an opaque origin, which
    no pattern admits). Raises ValueError naming what is wrong."""
    entry = value if referer else value.strip()
    if referer and entry == "null":
        return OPAQUE_ORIGIN
    if pattern and len(entry) > MAX_ENTRY_LENGTH:
        raise ValueError(f"{entry[:40]!r}… is longer than {MAX_ENTRY_LENGTH} characters.")
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#@]*)(.*)", entry)
    if match is None:
        raise ValueError(f"{entry!r} is not an origin like https://app.example.com.")
    scheme, authority, rest = match[1].lower(), match[2], match[3]
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"{entry!r}: only http and https origins are supported.")
    if rest not in ("", "/") and not referer:
        raise ValueError(f"{entry!r} has a path: an origin is scheme, host and port only.")
    wildcard = pattern and authority.startswith("*.")
    if wildcard:
        authority = authority[2:]
    try:
        split = urlsplit(f"{scheme}://{authority}")
        port = split.port
    except ValueError:
        raise ValueError(f"{entry!r} has a bad port.") from None
    hostname = authority.rsplit(":", 1)[0] if split.port is not None else authority
    if authority.endswith(":"):
        raise ValueError(f"{entry!r} has a bad port.")
    if not hostname or "*" in hostname:
        raise ValueError(f"{entry!r} has no valid host (a wildcard only as a leading `*.`).")
    host = _host(hostname, entry)
    if wildcard and host.startswith("["):
        raise ValueError(f"{entry!r}: a wildcard needs a domain name, not an address.")
    return Origin(scheme, host, port or _DEFAULT_PORTS[scheme], wildcard)


def _clean(field: str, entries: list[str], parse: type | object) -> list[str]:
    problems: list[FieldProblem] = []
    if len(entries) > MAX_ENTRIES:
        problems.append(FieldProblem(field, f"At most {MAX_ENTRIES} entries."))
    cleaned: list[str] = []
    for entry in entries:
        try:
            text = parse(entry)  # type: ignore[operator]
        except ValueError as error:
            problems.append(FieldProblem(field, str(error)))
            continue
        if text not in cleaned:
            cleaned.append(text)
    if problems:
        raise InvalidInput(problems[0].field, problems[0].message, *problems[1:])
    return cleaned


def clean_cidrs(entries: list[str], field: str = "allowedCidrs") -> list[str]:
    """Normalised networks (a bare address is a /32 or /128), duplicates dropped; every bad
    entry is reported at once as an `InvalidInput`."""
    return _clean(field, entries, lambda entry: str(_network(entry)))


def clean_origins(entries: list[str], field: str = "allowedOrigins") -> list[str]:
    """Normalised origins (`https://*.example.com` allowed), duplicates dropped; every bad entry
    is reported at once as an `InvalidInput`."""
    return _clean(field, entries, lambda entry: str(parse_origin(entry, pattern=True)))


@dataclass(frozen=True, slots=True)
class Restrictions:
    networks: tuple[IpNetwork, ...]
    origins: tuple[Origin, ...]

    def denial(self, client_ip: IpAddress | None, origin: Origin | None) -> DenialReason | None:
        """Why a caller at `client_ip` from `origin` may not use the key; None when it may.
        A missing address or origin fails a key restricted by it."""
        if self.networks and (
            client_ip is None or not any(client_ip in network for network in self.networks)
        ):
            return DenialReason.IP_NOT_ALLOWED
        if self.origins and (
            origin is None or not any(allowed.admits(origin) for allowed in self.origins)
        ):
            return DenialReason.ORIGIN_NOT_ALLOWED
        return None


UNRESTRICTED = Restrictions((), ())


@lru_cache(maxsize=4096)
def restrictions_of(cidrs_json: str | None, origins_json: str | None) -> Restrictions:
    """A key's stored lists, parsed once per distinct text (the hot path's cost is a dict hit)."""
    cidrs = json.loads(cidrs_json) if cidrs_json else []
    origins = json.loads(origins_json) if origins_json else []
    if not cidrs and not origins:
        return UNRESTRICTED
    return Restrictions(
        tuple(_network(entry) for entry in cidrs),
        tuple(parse_origin(entry, pattern=True) for entry in origins),
    )
