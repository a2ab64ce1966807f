"""The app subnet pool: parsing, free subnets around taken ones, the host's routes, and which networks use it."""

from __future__ import annotations

import ipaddress

import pytest

from runtime.specs import IpamSpec, NetworkSpec
from runtime.subnets import SubnetPool, host_routes, parse_subnets, wants_pool, with_subnet

net = ipaddress.IPv4Network


def test_the_default_pool_keeps_clear_of_home_networks_and_holds_2048_app_networks():
    pool = SubnetPool.parse(["172.24.0.0/13"])
    assert pool.capacity == 2048 and pool.prefix == 24
    for lan in ("192.168.0.0/16", "10.0.0.0/8", "172.17.0.0/16"):
        assert not any(n.overlaps(net(lan)) for n in pool.networks)


@pytest.mark.parametrize(
    ("networks", "prefix", "error"),
    [
        ([], 24, "empty"),
        (["nonsense"], 24, "does not appear to be"),
        (["fd00::/64"], 24, "not an IPv4 network"),
        (["172.24.0.1/13"], 24, "host bits set"),
        (["172.24.0.0/26"], 24, "smaller than one /24"),
        (["172.24.0.0/13"], 30, "between /16 and /29"),
    ],
)
def test_a_bad_pool_is_refused_with_the_reason(networks, prefix, error):
    with pytest.raises(ValueError, match=error):
        SubnetPool.parse(networks, prefix)


def test_it_skips_every_subnet_that_overlaps_a_taken_one():
    pool = SubnetPool.parse(["172.24.0.0/21", "172.30.0.0/24"], 24)
    used = parse_subnets(["172.24.0.0/24", "172.24.2.0/23", "172.24.5.128/25", "172.16.0.0/12", "fd00::/64", "x"])
    assert list(pool.free(used[:3])) == [
        net("172.24.1.0/24"),
        net("172.24.4.0/24"),
        *[net(f"172.24.{i}.0/24") for i in (6, 7)],
        net("172.30.0.0/24"),
    ]
    assert list(pool.free(used)) == []  # a /12 around the whole pool leaves nothing
    assert pool.choose(used) is None


def test_it_chooses_low_in_the_pool_so_foreign_networks_keep_the_rest():
    pool = SubnetPool.parse(["172.24.0.0/13"])
    chosen = {pool.choose([net("172.24.0.0/24")]) for _ in range(200)}
    assert chosen <= {net(f"172.24.{i}.0/24") for i in range(1, 9)} and len(chosen) > 1


def test_a_wider_spread_after_refusals_scatters_racing_allocators():
    pool = SubnetPool.parse(["172.24.0.0/13"])
    chosen = {pool.choose([], spread=64) for _ in range(400)}
    assert chosen <= {net(f"172.24.{i}.0/24") for i in range(64)} and len(chosen) > 40


def test_it_reads_the_hosts_routes_except_the_default_one(tmp_path):
    table = tmp_path / "route"
    table.write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "eth0\t000018AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"  # 172.24.0.0/16, a LAN on the pool
        "wg0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0\n"
    )
    assert host_routes(table) == [net("172.24.0.0/16"), net("10.0.0.0/8")]
    assert host_routes(tmp_path / "missing") == []


def test_only_bridges_without_a_subnet_of_their_own_use_the_pool():
    assert wants_pool(NetworkSpec(name="a_default"))
    assert wants_pool(NetworkSpec(name="a", ipam=IpamSpec(driver="default", options={"x": "1"})))
    assert not wants_pool(NetworkSpec(name="a", ipam=IpamSpec(config=({"subnet": "10.5.0.0/24"},))))
    assert not wants_pool(NetworkSpec(name="a", driver="macvlan"))
    assert not wants_pool(NetworkSpec(name="a", external=True))
    spec = with_subnet(NetworkSpec(name="a", ipam=IpamSpec(options={"x": "1"})), net("172.24.9.0/24"))
    assert spec.ipam == IpamSpec(config=({"subnet": "172.24.9.0/24"},), options={"x": "1"})


class _RacingEngine:
    """Answers like an engine where another worker takes the first subnet between our look and our create."""

    url = "tcp://elsewhere:2375"  # not this machine: its routes are not ours to read

    def __init__(self):
        self.networks: list[str] = ["172.24.0.0/24"]
        self.asked: list[str] = []

    def network_subnets(self):
        return list(self.networks)

    def create_network(self, spec):
        from runtime.errors import SubnetTaken

        subnet = spec.ipam.config[0]["subnet"]
        self.asked.append(subnet)
        if len(self.asked) == 1:
            raise SubnetTaken("Pool overlaps with other one on this address space")  # the other worker won
        self.networks.append(subnet)
        return "id"


def test_a_subnet_taken_meanwhile_is_retried_with_another(monkeypatch):
    from runtime import subnets
    from runtime.base import Engine

    monkeypatch.setattr(subnets.random, "choice", lambda seq: seq[0])
    fake = _RacingEngine()
    Engine.create_network_in_pool(fake, NetworkSpec(name="a_default"), SubnetPool.parse(["172.24.0.0/22"]))
    assert fake.asked == ["172.24.1.0/24", "172.24.2.0/24"]
