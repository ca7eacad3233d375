"""dashboard.proxies: the list of trusted proxies and the client address it gives."""

from __future__ import annotations

import re

import pytest

from dashboard.proxies import ProxyConfigError, TrustedProxies, from_environ


def test_empty_by_default_believes_no_one():
    proxies = from_environ({})
    assert not proxies
    assert proxies.gunicorn_value() == ""
    assert proxies.client("127.0.0.1", "203.0.113.9") == "127.0.0.1"


def test_addresses_and_networks():
    proxies = TrustedProxies.parse(" 127.0.0.1, 10.1.0.0/16 ,::1")
    assert proxies.gunicorn_value() == "127.0.0.1/32,10.1.0.0/16,::1/128"
    assert "10.1.200.3" in proxies
    assert "::1" in proxies
    assert "10.2.0.1" not in proxies
    assert "not an address" not in proxies


def test_rightmost_address_that_is_not_a_proxy_is_the_client():
    proxies = TrustedProxies.parse("10.0.0.0/8")
    # the client forged the first entry; the outer proxy appended the real one, then ours
    assert proxies.client("10.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.2") == "198.51.100.7"
    assert proxies.client("10.0.0.1", "198.51.100.7:5123") == "198.51.100.7"
    assert proxies.client("10.0.0.1", "[2001:db8::1]:443") == "2001:db8::1"
    assert proxies.client("10.0.0.1", "10.0.0.3, 10.0.0.2") == "10.0.0.3"
    assert proxies.client("10.0.0.1", " , ") == "10.0.0.1"
    assert proxies.client("10.0.0.1", "x" * 500) == "x" * 64


@pytest.mark.parametrize("text", ["*", "example.org", "10.0.0.1/8", "10.0.0.300"])
def test_anything_but_an_address_or_network_is_refused(text):
    with pytest.raises(ProxyConfigError, match="TRUSTED_PROXIES must list"):
        TrustedProxies.parse(text)


def test_the_old_yes_no_setting_stops_the_start_with_directions():
    with pytest.raises(ProxyConfigError, match=re.escape("TRUSTED_PROXIES=127.0.0.1")):
        from_environ({"TRUST_X_FORWARDED_FOR": "1"})
    assert not from_environ({"TRUST_X_FORWARDED_FOR": "0"})
