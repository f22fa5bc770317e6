"""IPv6 in moto's EC2, as the registrar and the seeder need it (issue 21).

Imported by strict_moto.py (its item 6) before the server starts. moto 5.2.5
models IPv6 only in part; each gap below is named `MOTO GAP 6x` where it is
patched, and tests/emulator/test_strict_moto.py checks each through boto3.

6a. CreateVpc ignores `Ipv6CidrBlock` (AWS takes a given block with
    `Ipv6Pool`, for BYOIP and IPAM): the VPC gets no IPv6 block. moto only
    makes a random /56 for `AmazonProvidedIpv6CidrBlock`, so a world file's
    addresses could never be inside it. The given block is associated.
6b. A subnet's `Ipv6CidrBlockAssociationSet` answers the state as the text
    of a dict (`{"State": "{'State': 'associated'}"}`); AWS answers
    `{"State": "associated"}`.
6c. RunInstances ignores `NetworkInterfaces[].Ipv6Addresses` and
    `NetworkInterfaces[].Ipv6AddressCount` (only the top-level
    `Ipv6AddressCount` is read): the interface gets no IPv6 address. They
    are assigned to the interface of that device index.
6d. An instance in an IPv6-only subnet (`Ipv6Native`) gets an IPv6 address
    as its `PrivateIpAddress` and a private DNS name made of it
    (`ip-2600:1f18:….ec2.internal`). AWS gives such an instance no private
    IPv4 and a resource-based name (`i-0abc….ec2.internal`, or
    `i-0abc….REGION.compute.internal`): `PrivateIpAddress` is left out and
    `PrivateDnsName` is the resource name. With `enableDnsHostnames` on,
    moto also fails the launch (HTTP 500, IndexError) making the interface's
    DNS name out of the IPv6 address as if it were dotted IPv4; the
    interface gets none (AWS names it by the instance, which has no id yet).
6e. An IPv6-only subnet's `AvailableIpAddressCount` is its IPv6 block's
    size less 5 (18446744073709551610 for a /64), which no AWS SDK can read
    (an Int32: the Rust SDK fails the whole DescribeSubnets). AWS counts
    unused private IPv4 addresses there, and an IPv6-only subnet has none: 0.

Not patched, because nothing here depends on it: the instance's own
`Ipv6Address` (moto leaves it out; the registrar then reads the primary
interface's first IPv6 address, as it does for any response without it),
`IsPrimaryIpv6` (always false), and the subnet's
`AssignIpv6AddressOnCreation` (the seeder gives each address explicitly).
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models import elastic_network_interfaces as eni_models
from moto.ec2.models.instances import Instance
from moto.ec2.models.subnets import Subnet
from moto.ec2.responses.vpcs import VPCs

# MOTO GAP 6a: CreateVpc with Ipv6CidrBlock associates that block.
_create_vpc = VPCs.create_vpc


def create_vpc_with_ipv6_block(self: VPCs) -> Any:
    block = self._get_param("Ipv6CidrBlock")
    result = _create_vpc(self)
    if block:
        vpc = result.result["Vpc"]
        vpc.associate_vpc_cidr_block(block)
    return result


VPCs.create_vpc = create_vpc_with_ipv6_block


# MOTO GAP 6b: a subnet's IPv6 block state as AWS answers it.
def _subnet_ipv6_blocks(self: Subnet) -> list[dict[str, Any]]:
    return [
        {
            "ipv6CidrBlock": a["ipv6CidrBlock"],
            "associationId": a["associationId"],
            "ipv6CidrBlockState": {"state": a["ipv6CidrBlockState"]["State"]},
        }
        for a in self.ipv6_cidr_block_associations.values()
        if a["ipv6CidrBlockState"]["State"] == "associated"
    ]


Subnet.ipv6_cidr_block_association_set = property(_subnet_ipv6_blocks)  # type: ignore[assignment]

# MOTO GAP 6c: NetworkInterfaces[].Ipv6Addresses and .Ipv6AddressCount.
_prep_nics = Instance.prep_nics


def _address(entry: Any) -> str | None:
    if isinstance(entry, dict):
        return entry.get("Ipv6Address")
    return entry if isinstance(entry, str) else None


def prep_nics_with_ipv6(self: Instance, nic_spec: list[dict[str, Any]], *args: Any,
                        **kwargs: Any) -> None:
    _prep_nics(self, nic_spec, *args, **kwargs)
    for nic in nic_spec or []:
        eni = self.nics.get(int(nic.get("DeviceIndex", 0)))
        if eni is None:
            continue
        wanted = [a for a in map(_address, nic.get("Ipv6Addresses") or []) if a]
        count = int(nic.get("Ipv6AddressCount") or 0)
        extra = max(0, count - len(wanted))
        if wanted or extra:
            self.ec2_backend.assign_ipv6_addresses(
                eni.id, ipv6_addresses=wanted or None, ipv6_count=extra or None)


Instance.prep_nics = prep_nics_with_ipv6


# MOTO GAP 6d: an instance in an IPv6-only subnet has no private IPv4, and a
# resource-based private DNS name.
def _ipv4_only(address: str | None) -> str | None:
    return None if address is None or ":" in address else address


_generate_dns_from_ip = eni_models.generate_dns_from_ip


def _dns_from_ipv4_only(ip: Any, *args: Any, **kwargs: Any) -> str | None:
    if isinstance(ip, str) and ":" in ip:
        return None
    return _generate_dns_from_ip(ip, *args, **kwargs)


eni_models.generate_dns_from_ip = _dns_from_ipv4_only

_private_ip = Instance.private_ip
_private_ip_address = Instance.private_ip_address
_private_dns_name = Instance.private_dns_name


def _instance_private_ip(self: Instance) -> str | None:
    return _ipv4_only(_private_ip.fget(self))


def _instance_private_ip_address(self: Instance) -> str | None:
    return _ipv4_only(_private_ip_address.fget(self))


def _instance_private_dns_name(self: Instance) -> str:
    if _instance_private_ip(self) is not None:
        return _private_dns_name.fget(self)
    if self.region_name == "us-east-1":
        return f"{self.id}.ec2.internal"
    return f"{self.id}.{self.region_name}.compute.internal"


Instance.private_ip = property(_instance_private_ip)  # type: ignore[assignment]
Instance.private_ip_address = property(_instance_private_ip_address)  # type: ignore[assignment]
Instance.private_dns_name = property(_instance_private_dns_name)  # type: ignore[assignment]


# MOTO GAP 6e: an IPv6-only subnet has no IPv4 addresses to count.
_available_ip_address_count = Subnet.available_ip_address_count


def _ipv4_available_count(self: Subnet) -> int:
    if getattr(self, "ipv6_native", False):
        return 0
    return _available_ip_address_count.fget(self)


Subnet.available_ip_address_count = property(_ipv4_available_count)  # type: ignore[assignment]
