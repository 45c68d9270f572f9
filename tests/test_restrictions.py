"""Key restrictions' rules (`models.restrictions`): which entries an owner may save, how they are
normalised, and which callers they admit. No database: the rules are pure; the API tests
(tests/test_key_restrictions.py) check them end to end."""

from __future__ import annotations

import json

import pytest

from models.errors import InvalidInput
from models.restrictions import (
    MAX_ENTRIES,
    DenialReason,
    Restrictions,
    clean_cidrs,
    clean_origins,
    parse_address,
    parse_origin,
    restrictions_of,
)


def _restricted(cidrs: list[str] = [], origins: list[str] = []) -> Restrictions:  # noqa: B006
    return restrictions_of(
        json.dumps(clean_cidrs(cidrs)) if cidrs else None,
        json.dumps(clean_origins(origins)) if origins else None,
    )


def _address_allowed(cidrs: list[str], caller: str) -> bool:
    return _restricted(cidrs=cidrs).denial(parse_address(caller), None) is None


def _origin_allowed(origins: list[str], caller: str) -> bool:
    restrictions = _restricted(origins=origins)
    return restrictions.denial(None, parse_origin(caller, referer=True)) is None


@pytest.mark.parametrize(
    ("entry", "stored"),
    [
        ("203.0.113.5", "203.0.113.5/32"),
        ("2001:db8::1", "2001:db8::1/128"),
        ("2001:0DB8:0000::/32", "2001:db8::/32"),
        (" 10.0.0.0/8 ", "10.0.0.0/8"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("::/0", "::/0"),
        ("::ffff:203.0.113.0/120", "203.0.113.0/24"),  # an IPv4 network written as mapped IPv6
    ],
)
def test_networks_are_stored_normalised(entry: str, stored: str) -> None:
    assert clean_cidrs([entry]) == [stored]


def test_duplicate_networks_are_stored_once() -> None:
    assert clean_cidrs(["10.0.0.1", "10.0.0.1/32", "10.0.0.2"]) == ["10.0.0.1/32", "10.0.0.2/32"]


def test_every_bad_network_is_reported_at_once() -> None:
    # when
    with pytest.raises(InvalidInput) as raised:
        clean_cidrs(["10.0.0.0/8", "10.0.0.1/24", "300.1.1.1", "example.com", "10.0.0.0/33", ""])
    # then each bad entry is named, in order, and a host-bits mistake gets a suggestion
    messages = [problem.message for problem in raised.value.problems]
    assert {problem.field for problem in raised.value.problems} == {"allowedCidrs"}
    assert len(messages) == 5
    assert "did you mean 10.0.0.0/24?" in messages[0]
    assert [m.split(" ")[0] for m in messages[1:]] == [
        "'300.1.1.1'",
        "'example.com'",
        "'10.0.0.0/33'",
        "''",
    ]


def test_at_most_fifty_entries_each() -> None:
    # given
    networks = [f"10.0.{n}.0/24" for n in range(MAX_ENTRIES + 1)]
    origins = [f"https://s{n}.example.com" for n in range(MAX_ENTRIES + 1)]
    # then fifty is fine and fifty-one is not
    assert len(clean_cidrs(networks[:MAX_ENTRIES])) == MAX_ENTRIES
    assert len(clean_origins(origins[:MAX_ENTRIES])) == MAX_ENTRIES
    for clean, entries in ((clean_cidrs, networks), (clean_origins, origins)):
        with pytest.raises(InvalidInput, match="At most 50"):
            clean(entries)


@pytest.mark.parametrize(
    ("cidrs", "caller", "allowed"),
    [
        (["203.0.113.0/24"], "203.0.113.5", True),
        (["203.0.113.0/24"], "203.0.114.5", False),
        (["203.0.113.5"], "203.0.113.5", True),
        (["203.0.113.5"], "203.0.113.6", False),
        (["203.0.113.0/24"], "::ffff:203.0.113.5", True),  # IPv4-mapped IPv6 caller
        (["203.0.113.0/24"], "::ffff:198.51.100.1", False),
        (["2001:db8::/32"], "2001:db8:1234::1", True),
        (["2001:db8::/32"], "2001:db9::1", False),
        (["2001:db8::/32"], "2001:DB8::ABCD", True),  # any case
        (["0.0.0.0/0"], "198.51.100.7", True),  # /0: every IPv4 address
        (["0.0.0.0/0"], "2001:db8::1", False),  # but no IPv6 one
        (["::/0"], "2001:db8::1", True),
        (["10.0.0.0/8", "2001:db8::/32"], "2001:db8::1", True),
        (["10.0.0.0/8", "2001:db8::/32"], "10.1.2.3", True),
    ],
)
def test_which_addresses_a_network_admits(cidrs: list[str], caller: str, allowed: bool) -> None:
    assert _address_allowed(cidrs, caller) is allowed


@pytest.mark.parametrize(
    ("entry", "stored"),
    [
        ("https://App.Example.COM", "https://app.example.com"),
        ("https://app.example.com:443", "https://app.example.com"),  # default port dropped
        ("http://app.example.com:80/", "http://app.example.com"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("https://app.example.com:8443", "https://app.example.com:8443"),
        ("HTTPS://*.Example.com", "https://*.example.com"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),  # IDNA
        ("https://*.BÜCHER.example", "https://*.xn--bcher-kva.example"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://127.0.0.1:5173", "http://127.0.0.1:5173"),
    ],
)
def test_origins_are_stored_normalised(entry: str, stored: str) -> None:
    assert clean_origins([entry]) == [stored]


@pytest.mark.parametrize(
    "entry",
    [
        "app.example.com",  # no scheme
        "ftp://app.example.com",
        "https://app.example.com/path",
        "https://app.example.com?x=1",
        "https://user@app.example.com",
        "https://*",
        "https://*.",
        "https://app.*.example.com",
        "https://*example.com",
        "https://app.example.com:99999",
        "https://app.example.com:",
        "https://-bad-.example.com",
        "https://exa mple.com",
        "https://*.[::1]",
        "https://",
    ],
)
def test_bad_origins_are_refused(entry: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        clean_origins([entry])
    assert raised.value.field == "allowedOrigins"


def test_every_bad_origin_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as raised:
        clean_origins(["https://ok.example.com", "ftp://x", "https://a.example.com/p", "nope"])
    assert len(raised.value.problems) == 3


@pytest.mark.parametrize(
    ("origins", "caller", "allowed"),
    [
        (["https://app.example.com"], "https://app.example.com", True),
        (["https://app.example.com"], "https://APP.example.com", True),  # case
        (["https://app.example.com"], "https://app.example.com:443", True),  # default port
        (["https://app.example.com"], "https://app.example.com:8443", False),  # another port
        (["https://app.example.com"], "http://app.example.com", False),  # another scheme
        (["https://app.example.com"], "https://evil.example.com", False),
        (["https://app.example.com"], "https://app.example.com.evil.net", False),
        (["https://app.example.com"], "https://app.example.com/some/page?q=1", True),  # Referer
        (["https://*.example.com"], "https://a.example.com", True),
        (["https://*.example.com"], "https://a.b.c.example.com", True),  # any depth
        (["https://*.example.com"], "https://example.com", False),  # not the apex
        (["https://*.example.com"], "https://badexample.com", False),
        (["https://*.example.com"], "https://a.example.com.evil.net", False),
        (["https://*.example.com"], "http://a.example.com", False),
        (["http://localhost:3000"], "http://localhost:3000", True),
        (["http://localhost:3000"], "http://localhost:3001", False),
        (["https://bücher.example"], "https://xn--bcher-kva.example", True),  # IDNA both ways
        (["https://xn--bcher-kva.example"], "https://Bücher.example", True),
        (["http://[::1]:8080"], "http://[0:0::1]:8080", True),
    ],
)
def test_which_origins_an_entry_admits(origins: list[str], caller: str, allowed: bool) -> None:
    assert _origin_allowed(origins, caller) is allowed


def test_a_caller_without_address_or_origin_fails_the_restriction_it_lacks() -> None:
    # given a key restricted both ways
    both = _restricted(cidrs=["10.0.0.0/8"], origins=["https://app.example.com"])
    good_ip, good_origin = parse_address("10.1.1.1"), parse_origin("https://app.example.com")
    # then
    assert both.denial(None, good_origin) is DenialReason.IP_NOT_ALLOWED
    assert both.denial(good_ip, None) is DenialReason.ORIGIN_NOT_ALLOWED
    assert both.denial(good_ip, good_origin) is None
    # and an unrestricted key needs neither
    assert _restricted().denial(None, None) is None


@pytest.mark.parametrize("caller", ["", "10.0.0", "10.0.0.0/8", "example.com", "::g"])
def test_a_malformed_caller_address_is_refused(caller: str) -> None:
    with pytest.raises(ValueError):
        parse_address(caller)


def test_an_opaque_origin_is_present_but_admitted_by_no_entry() -> None:
    # given the `Origin: null` of a sandboxed frame
    caller = parse_origin("null", referer=True)
    # then it fails an origin restriction, even a wildcard, and is kept as "null"
    assert str(caller) == "null"
    restricted = _restricted(origins=["https://*.example.com", "http://localhost:3000"])
    assert restricted.denial(None, caller) is DenialReason.ORIGIN_NOT_ALLOWED
    with pytest.raises(InvalidInput):
        clean_origins(["null"])


@pytest.mark.parametrize("caller", ["app.example.com", "javascript:alert(1)", "https://"])
def test_a_malformed_caller_origin_is_refused(caller: str) -> None:
    with pytest.raises(ValueError):
        parse_origin(caller, referer=True)
