"""Where a webhook may point (finding 4 of issue 15), without servers: public https only, internal targets in
every spelling refused with one and the same answer, unless the operator allowed them."""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest

from services.partners.channels import WebhookSender, WebhookTargets
from services.partners.domain.targets import REFUSED, TargetPolicy, check_addresses, check_endpoint_url, is_internal
from shared.errors import InvalidInput

NONE = TargetPolicy()

INTERNAL_URLS = [
    "https://127.0.0.1/hook",
    "https://127.0.0.2:8080/hook",
    "https://10.0.0.1/hook",
    "https://172.16.5.4/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
    "https://169.254.169.254/latest/meta-data/",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
    "https://255.255.255.255/hook",
    "https://[::1]/hook",
    "https://[::]/hook",
    "https://[fe80::1]/hook",
    "https://[fc00::1]/hook",
    "https://[fd00:ec2::254]/latest/meta-data/",  # AWS's metadata over IPv6
    "https://[ff02::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "https://[::ffff:169.254.169.254]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of the metadata address
    "https://[2002:a9fe:a9fe::1]/hook",  # 6to4 of it
    "https://[2001:db8::1]/hook",  # documentation
    "https://localhost/hook",
    "https://LOCALHOST./hook",
    "https://api.localhost/hook",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://metadata/hook",
    "https://printer.local/hook",
    "https://intranet/hook",  # a single label resolves through the search domains, inside
    "http://localhost:8080/hook",
    "http://127.0.0.1:9000/hook",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_targets_are_refused_with_one_answer(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_endpoint_url(url, NONE)
    assert refused.value.detail in (REFUSED, "a webhook URL must use https://")


@pytest.mark.parametrize(
    "url",
    ["https://partner.example/hooks/partnernet", "https://partner.example:8443/h", "https://93.184.216.34/h"],
)
def test_public_https_endpoints_are_taken(url: str) -> None:
    check_endpoint_url(url, NONE)


@pytest.mark.parametrize(
    "url",
    [
        "http://partner.example/hook",
        "ftp://partner.example/hook",
        "https://user:secret@partner.example/hook",
        "partner.example/hook",
        "https://partner.example:99999/hook",
    ],
)
def test_other_shapes_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_endpoint_url(url, NONE)


def test_the_operator_allows_internal_targets_explicitly_and_only_those() -> None:
    policy = TargetPolicy.parse(("127.0.0.1", "localhost", "10.1.2.0/24", "Hooks.Intern.Example."))
    for url in (
        "http://127.0.0.1:9000/h",
        "http://localhost:8080/h",
        "https://10.1.2.7/h",
        "https://hooks.intern.example/h",
    ):
        check_endpoint_url(url, policy)
    for url in ("https://10.1.3.7/h", "https://127.0.0.2/h", "https://169.254.169.254/"):
        with pytest.raises(InvalidInput):
            check_endpoint_url(url, policy)


def a(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def test_a_name_must_resolve_to_public_addresses_only() -> None:
    check_addresses("partner.example", [a("93.184.216.34"), a("2606:2800:220:1::1")], NONE)
    for addresses in ([a("10.0.0.5")], [a("93.184.216.34"), a("127.0.0.1")], [a("::ffff:169.254.169.254")]):
        with pytest.raises(InvalidInput, match="not allowed"):
            check_addresses("partner.example", addresses, NONE)  # one internal answer is enough: DNS rebinding
    check_addresses("partner.example", [a("10.1.2.3")], TargetPolicy.parse(("10.1.2.0/24",)))
    check_addresses("hooks.intern.example", [a("10.9.9.9")], TargetPolicy.parse(("hooks.intern.example",)))


def test_public_addresses_are_not_internal() -> None:
    assert not is_internal(a("93.184.216.34")) and not is_internal(a("2606:2800:220:1::1"))
    assert not is_internal(a("64:ff9b::5db8:d822"))  # NAT64 of a public address


async def test_a_delivery_connects_to_the_address_that_was_checked_with_the_name_for_host_and_tls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pinned: httpx is given the checked address, so no second lookup can lead it elsewhere."""
    answers = iter([[a("93.184.216.34")], [a("127.0.0.1")]])  # the second lookup would be a rebinding

    async def resolve(self: WebhookTargets, host: str, port: int) -> list[Any]:
        return next(answers)

    monkeypatch.setattr(WebhookTargets, "resolve", resolve)
    seen: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    sender = WebhookSender(5, WebhookTargets(NONE))
    async with httpx.AsyncClient(transport=httpx.MockTransport(transport)) as client:
        first = await sender.post(client, "https://hooks.partner.example:8443/in?x=1", b"{}", {})
        second = await sender.post(client, "https://hooks.partner.example:8443/in?x=1", b"{}", {})
    assert first.delivered and len(seen) == 1
    (request,) = seen
    assert str(request.url) == "https://93.184.216.34:8443/in?x=1"
    assert request.headers["host"] == "hooks.partner.example:8443"
    assert request.extensions["sni_hostname"] == "hooks.partner.example"
    assert not second.delivered and second.status_code is None and str(second.error) == REFUSED
