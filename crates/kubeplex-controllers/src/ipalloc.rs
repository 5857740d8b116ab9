//! Service ClusterIP and NodePort allocation, as upstream's bitmap allocators
//! (`pkg/registry/core/service/ipallocator`, `.../portallocator`, `.../allocator`) do it.
//!
//! Each allocator is a range plus the set of used offsets in it. Allocating a free value
//! picks randomly (from a `random` number the caller passes in, so the logic stays pure),
//! first in the upper "dynamic" band and only then in the lower "static" band kept for
//! values users ask for (KEP-3070). The state serialises to bytes so the runtime can keep
//! it as one compare-and-set record per logical cluster, like upstream's RangeAllocation:
//! [`AllocationSet::to_range_allocation_data`] is upstream's own format (the bitmap as a
//! big-endian integer), [`AllocationSet::encode`] a compact one (a list of offsets while
//! few are used, the bitmap once that is smaller).
//!
//! Memory is proportional to the values in use (a sorted set of offsets), so a logical
//! cluster with two services costs a few bytes, not the 128 KiB bitmap of a /12.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;

use crate::Error;

/// The default service CIDR.
pub const DEFAULT_SERVICE_CIDR: &str = "10.96.0.0/12";
/// The default NodePort range.
pub const DEFAULT_NODE_PORT_RANGE: &str = "30000-32767";

/// Why an allocation failed; `Display` gives upstream's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocError {
    /// The value asked for is already in use.
    Allocated {
        /// True for a port, false for an IP.
        port: bool,
    },
    /// The IP asked for is outside the service CIDR.
    IpNotInRange {
        /// The IP asked for.
        ip: String,
        /// The CIDR, e.g. `10.96.0.0/12`.
        range: String,
    },
    /// The port asked for is outside the NodePort range.
    PortNotInRange {
        /// The range, e.g. `30000-32767`.
        range: String,
    },
    /// No free value is left.
    Full,
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocError::Allocated { port: false } => f.write_str("provided IP is already allocated"),
            AllocError::Allocated { port: true } => f.write_str("provided port is already allocated"),
            AllocError::IpNotInRange { ip, range } => {
                write!(f, "the provided IP ({ip}) is not in the valid range. The range of valid IPs is {range}")
            }
            AllocError::PortNotInRange { range } => {
                write!(f, "provided port is not in the valid range. The range of valid ports is {range}")
            }
            AllocError::Full => f.write_str("range is full"),
        }
    }
}

impl std::error::Error for AllocError {}

/// The field error text of a Service create whose requested ClusterIP could not be had
/// (upstream answers 422 with it): `spec.clusterIPs: Invalid value: []string{"10.96.0.5"}:
/// failed to allocate IP 10.96.0.5: provided IP is already allocated`.
pub fn cluster_ip_field_error(cluster_ips: &[String], ip: &str, err: &AllocError) -> String {
    let quoted: Vec<String> = cluster_ips.iter().map(|s| go_quote(s)).collect();
    format!("spec.clusterIPs: Invalid value: []string{{{}}}: failed to allocate IP {ip}: {err}", quoted.join(", "))
}

/// The field error text of a Service whose requested NodePort could not be had (422):
/// `spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated`.
pub fn node_port_field_error(port_index: usize, node_port: i32, err: &AllocError) -> String {
    format!("spec.ports[{port_index}].nodePort: Invalid value: {node_port}: {err}")
}

/// The 500 error message when no ClusterIP is free: `failed to allocate a serviceIP: range is full`.
pub fn cluster_ip_internal_error(err: &AllocError) -> String {
    format!("failed to allocate a serviceIP: {err}")
}

/// The 500 error message when no NodePort is free: `failed to allocate a nodePort: range is full`.
pub fn node_port_internal_error(err: &AllocError) -> String {
    format!("failed to allocate a nodePort: {err}")
}

fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// Upstream `calculateRangeOffset`: the size of the lower static band.
fn range_offset(size: u64, min: u64, max: u64, step: u64) -> u32 {
    if size < min {
        return 0;
    }
    (size / step).clamp(min, max) as u32
}

/// The used offsets `0..max` of a range, with the static band `0..offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationSet {
    max: u32,
    offset: u32,
    used: BTreeSet<u32>,
}

impl AllocationSet {
    /// An empty set over `0..max` whose first `offset` values are the static band.
    pub fn new(max: u32, offset: u32) -> AllocationSet {
        AllocationSet { max, offset: offset.min(max), used: BTreeSet::new() }
    }

    /// How many values the range holds.
    pub fn size(&self) -> u32 {
        self.max
    }

    /// How many values are in use.
    pub fn used(&self) -> usize {
        self.used.len()
    }

    /// True when `i` is in use.
    pub fn has(&self, i: u32) -> bool {
        self.used.contains(&i)
    }

    /// Mark `i` as used; false if it already was (or is out of range).
    pub fn allocate(&mut self, i: u32) -> bool {
        i < self.max && self.used.insert(i)
    }

    /// Free `i`; false if it was not used.
    pub fn release(&mut self, i: u32) -> bool {
        self.used.remove(&i)
    }

    /// Take a free value: a random one in the upper band, else in the static band
    /// (upstream `randomScanStrategyWithOffset`). `random` drives the choice.
    pub fn allocate_next(&mut self, random: u64) -> Option<u32> {
        if self.used.len() as u64 >= u64::from(self.max) {
            return None;
        }
        let upper = self.max - self.offset;
        let found = if upper > 0 {
            let start = self.offset + (random % u64::from(upper)) as u32;
            self.first_free(start, self.max).or_else(|| self.first_free(self.offset, start))
        } else {
            None
        };
        let found = found.or_else(|| {
            if self.offset == 0 {
                return None;
            }
            let start = ((random >> 32) % u64::from(self.offset)) as u32;
            self.first_free(start, self.offset).or_else(|| self.first_free(0, start))
        })?;
        self.used.insert(found);
        Some(found)
    }

    fn first_free(&self, from: u32, to: u32) -> Option<u32> {
        let mut expected = from;
        for &v in self.used.range(from..to) {
            if v != expected {
                return Some(expected);
            }
            expected += 1;
        }
        (expected < to).then_some(expected)
    }

    /// Upstream's RangeAllocation `data`: the bitmap as a big-endian integer, bit `i` set when
    /// offset `i` is used, without leading zero bytes.
    pub fn to_range_allocation_data(&self) -> Vec<u8> {
        let Some(&highest) = self.used.last() else { return Vec::new() };
        let len = highest as usize / 8 + 1;
        let mut out = vec![0u8; len];
        for &i in &self.used {
            let byte = len - 1 - i as usize / 8;
            if let Some(b) = out.get_mut(byte) {
                *b |= 1 << (i % 8);
            }
        }
        out
    }

    /// Read upstream's RangeAllocation `data` into a set over `0..max` (bits past `max` are ignored).
    pub fn from_range_allocation_data(max: u32, offset: u32, data: &[u8]) -> AllocationSet {
        let mut set = AllocationSet::new(max, offset);
        for (pos, &byte) in data.iter().rev().enumerate() {
            for bit in 0..8 {
                if byte & (1 << bit) != 0 {
                    let i = pos as u64 * 8 + bit;
                    if i < u64::from(max) {
                        set.used.insert(i as u32);
                    }
                }
            }
        }
        set
    }

    /// The compact form: `0` then LEB128 gaps between used offsets, or `1` then the
    /// upstream bitmap bytes, whichever is shorter.
    pub fn encode(&self) -> Vec<u8> {
        let mut sparse = vec![0u8];
        let mut prev: Option<u32> = None;
        for &i in &self.used {
            let gap = match prev {
                None => i,
                Some(p) => i - p - 1,
            };
            write_varint(&mut sparse, gap);
            prev = Some(i);
        }
        let dense_len = self.used.last().map_or(0, |&h| h as usize / 8 + 1) + 1;
        if sparse.len() <= dense_len {
            return sparse;
        }
        let mut dense = vec![1u8];
        dense.extend(self.to_range_allocation_data());
        dense
    }

    /// Read [`AllocationSet::encode`]'s form back into a set over `0..max`.
    pub fn decode(max: u32, offset: u32, bytes: &[u8]) -> Result<AllocationSet, Error> {
        match bytes.split_first() {
            None => Ok(AllocationSet::new(max, offset)),
            Some((1, data)) => Ok(AllocationSet::from_range_allocation_data(max, offset, data)),
            Some((0, mut rest)) => {
                let mut set = AllocationSet::new(max, offset);
                let mut next: u64 = 0;
                while !rest.is_empty() {
                    let (gap, tail) = read_varint(rest)?;
                    rest = tail;
                    let i = next + u64::from(gap);
                    if i >= u64::from(max) {
                        return Err(Error::Invalid(format!("allocation offset {i} is outside the range of {max}")));
                    }
                    set.used.insert(i as u32);
                    next = i + 1;
                }
                Ok(set)
            }
            Some((tag, _)) => Err(Error::Invalid(format!("unknown allocation encoding {tag}"))),
        }
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn read_varint(bytes: &[u8]) -> Result<(u32, &[u8]), Error> {
    let mut v: u64 = 0;
    for (n, &b) in bytes.iter().enumerate().take(5) {
        v |= u64::from(b & 0x7f) << (7 * n);
        if b & 0x80 == 0 {
            let v = u32::try_from(v).map_err(|_| Error::Invalid("allocation offset too large".into()))?;
            return Ok((v, bytes.get(n + 1..).unwrap_or(&[])));
        }
    }
    Err(Error::Invalid("truncated allocation data".into()))
}

/// ClusterIP allocator over an IPv4 service CIDR. Offset 0 is the network address + 1
/// (10.96.0.1 in the default CIDR, the `default/kubernetes` Service's IP); the broadcast
/// address is never handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterIpAllocator {
    cidr: String,
    base: u32,
    set: AllocationSet,
}

impl ClusterIpAllocator {
    /// An empty allocator over `cidr` (IPv4 only, e.g. `10.96.0.0/12`).
    pub fn new(cidr: &str) -> Result<ClusterIpAllocator, Error> {
        let (network, prefix) = parse_cidr(cidr)?;
        let size: u64 = 1u64 << (32 - u32::from(prefix));
        let max = size.saturating_sub(2);
        if max == 0 {
            return Err(Error::Invalid(format!("service CIDR {cidr} has no usable addresses")));
        }
        let offset = range_offset(size, 16, 256, 16);
        Ok(ClusterIpAllocator {
            cidr: format!("{}/{prefix}", Ipv4Addr::from(network)),
            base: network.wrapping_add(1),
            set: AllocationSet::new(max as u32, offset),
        })
    }

    /// The CIDR as upstream writes RangeAllocation `range`, e.g. `10.96.0.0/12`.
    pub fn range(&self) -> &str {
        &self.cidr
    }

    /// The first usable IP, the one the `default/kubernetes` Service gets (10.96.0.1).
    pub fn first_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base)
    }

    /// The used offsets (for serialisation with [`AllocationSet::encode`]).
    pub fn allocations(&self) -> &AllocationSet {
        &self.set
    }

    /// Rebuild an allocator from its CIDR and stored set.
    pub fn with_allocations(cidr: &str, set: AllocationSet) -> Result<ClusterIpAllocator, Error> {
        let mut a = ClusterIpAllocator::new(cidr)?;
        a.set = AllocationSet {
            max: a.set.max,
            offset: a.set.offset,
            used: set.used.into_iter().filter(|&i| i < a.set.max).collect(),
        };
        Ok(a)
    }

    fn index_of(&self, ip: &str) -> Result<u32, AllocError> {
        let not_in_range = || AllocError::IpNotInRange { ip: ip.to_string(), range: self.cidr.clone() };
        let parsed: Ipv4Addr = ip.parse().map_err(|_| not_in_range())?;
        let n = u32::from(parsed);
        let i = n.checked_sub(self.base).ok_or_else(not_in_range)?;
        if i >= self.set.max {
            return Err(not_in_range());
        }
        Ok(i)
    }

    /// Allocate the IP a Service asks for.
    pub fn allocate(&mut self, ip: &str) -> Result<(), AllocError> {
        let i = self.index_of(ip)?;
        if self.set.allocate(i) { Ok(()) } else { Err(AllocError::Allocated { port: false }) }
    }

    /// Allocate a free IP (random, upper band first); [`AllocError::Full`] when none is left.
    pub fn allocate_next(&mut self, random: u64) -> Result<Ipv4Addr, AllocError> {
        let i = self.set.allocate_next(random).ok_or(AllocError::Full)?;
        Ok(Ipv4Addr::from(self.base.wrapping_add(i)))
    }

    /// Free an IP; false if it was not allocated or is out of range.
    pub fn release(&mut self, ip: &str) -> bool {
        self.index_of(ip).is_ok_and(|i| self.set.release(i))
    }

    /// True when the IP is allocated.
    pub fn has(&self, ip: &str) -> bool {
        self.index_of(ip).is_ok_and(|i| self.set.has(i))
    }
}

fn parse_cidr(cidr: &str) -> Result<(u32, u8), Error> {
    let invalid = || Error::Invalid(format!("invalid IPv4 CIDR {cidr:?}"));
    let (ip, prefix) = cidr.split_once('/').ok_or_else(invalid)?;
    let ip: Ipv4Addr = ip.parse().map_err(|_| invalid())?;
    let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
    if prefix > 32 {
        return Err(invalid());
    }
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
    Ok((u32::from(ip) & mask, prefix))
}

/// NodePort allocator over a port range such as `30000-32767`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePortAllocator {
    base: i32,
    range: String,
    set: AllocationSet,
}

impl NodePortAllocator {
    /// An empty allocator over `range` (`FIRST-LAST`, inclusive).
    pub fn new(range: &str) -> Result<NodePortAllocator, Error> {
        let invalid = || Error::Invalid(format!("invalid port range {range:?}"));
        let (first, last) = range.split_once('-').ok_or_else(invalid)?;
        let first: u16 = first.trim().parse().map_err(|_| invalid())?;
        let last: u16 = last.trim().parse().map_err(|_| invalid())?;
        if last < first {
            return Err(invalid());
        }
        let size = u32::from(last - first) + 1;
        let offset = range_offset(u64::from(size), 16, 128, 32);
        Ok(NodePortAllocator {
            base: i32::from(first),
            range: format!("{first}-{last}"),
            set: AllocationSet::new(size, offset),
        })
    }

    /// The range as upstream writes RangeAllocation `range`, e.g. `30000-32767`.
    pub fn range(&self) -> &str {
        &self.range
    }

    /// The used offsets (for serialisation with [`AllocationSet::encode`]).
    pub fn allocations(&self) -> &AllocationSet {
        &self.set
    }

    /// Rebuild an allocator from its range and stored set.
    pub fn with_allocations(range: &str, set: AllocationSet) -> Result<NodePortAllocator, Error> {
        let mut a = NodePortAllocator::new(range)?;
        a.set = AllocationSet {
            max: a.set.max,
            offset: a.set.offset,
            used: set.used.into_iter().filter(|&i| i < a.set.max).collect(),
        };
        Ok(a)
    }

    fn index_of(&self, port: i32) -> Result<u32, AllocError> {
        let i = port - self.base;
        if i < 0 || i as u32 >= self.set.max {
            return Err(AllocError::PortNotInRange { range: self.range.clone() });
        }
        Ok(i as u32)
    }

    /// Allocate the port a Service asks for.
    pub fn allocate(&mut self, port: i32) -> Result<(), AllocError> {
        let i = self.index_of(port)?;
        if self.set.allocate(i) { Ok(()) } else { Err(AllocError::Allocated { port: true }) }
    }

    /// Allocate a free port (random, upper band first); [`AllocError::Full`] when none is left.
    pub fn allocate_next(&mut self, random: u64) -> Result<i32, AllocError> {
        let i = self.set.allocate_next(random).ok_or(AllocError::Full)?;
        Ok(self.base + i as i32)
    }

    /// Free a port; false if it was not allocated or is out of range.
    pub fn release(&mut self, port: i32) -> bool {
        self.index_of(port).is_ok_and(|i| self.set.release(i))
    }

    /// True when the port is allocated.
    pub fn has(&self, port: i32) -> bool {
        self.index_of(port).is_ok_and(|i| self.set.has(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_cidr_facts() -> Result<(), Error> {
        let a = ClusterIpAllocator::new(DEFAULT_SERVICE_CIDR)?;
        assert_eq!(a.first_ip(), Ipv4Addr::new(10, 96, 0, 1));
        assert_eq!(a.allocations().size(), (1 << 20) - 2);
        assert_eq!(a.allocations().offset, 256);
        assert_eq!(NodePortAllocator::new(DEFAULT_NODE_PORT_RANGE)?.allocations().offset, 86);
        Ok(())
    }

    #[test]
    fn specific_ip_and_exact_error() -> Result<(), Error> {
        let mut a = ClusterIpAllocator::new(DEFAULT_SERVICE_CIDR)?;
        assert_eq!(a.allocate("10.96.0.1"), Ok(()));
        assert_eq!(a.allocate("10.96.0.5"), Ok(()));
        let err = a.allocate("10.96.0.5").err().ok_or_else(|| Error::Invalid("expected an error".into()))?;
        assert_eq!(
            cluster_ip_field_error(&["10.96.0.5".to_string()], "10.96.0.5", &err),
            r#"spec.clusterIPs: Invalid value: []string{"10.96.0.5"}: failed to allocate IP 10.96.0.5: provided IP is already allocated"#
        );
        let out = a.allocate("10.0.0.1").err().map(|e| e.to_string());
        assert_eq!(
            out.as_deref(),
            Some("the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12")
        );
        assert!(a.allocate("10.111.255.255").is_err(), "broadcast is never handed out");
        assert!(a.allocate("10.111.255.254").is_ok());
        Ok(())
    }

    #[test]
    fn next_ip_prefers_upper_band_and_is_deterministic() -> Result<(), Error> {
        let mut a = ClusterIpAllocator::new(DEFAULT_SERVICE_CIDR)?;
        let mut b = a.clone();
        for r in [0u64, 7, 123_456_789, u64::MAX] {
            let ip = a.allocate_next(r).map_err(|e| Error::Invalid(e.to_string()))?;
            assert_eq!(b.allocate_next(r).ok(), Some(ip));
            assert!(u32::from(ip) - u32::from(a.first_ip()) >= 256, "{ip} is in the static band");
        }
        assert_eq!(a.allocate_next(0).ok(), Some(Ipv4Addr::new(10, 96, 1, 2)), "next free after a taken one");
        Ok(())
    }

    #[test]
    fn release_and_exhaustion() -> Result<(), Error> {
        let mut a = ClusterIpAllocator::new("192.168.0.0/29")?; // 6 usable, no static band
        let mut got = Vec::new();
        for r in 0..6u64 {
            got.push(a.allocate_next(r * 3).map_err(|e| Error::Invalid(e.to_string()))?);
        }
        got.sort();
        assert_eq!(got.first(), Some(&Ipv4Addr::new(192, 168, 0, 1)));
        assert_eq!(got.last(), Some(&Ipv4Addr::new(192, 168, 0, 6)));
        let full = a.allocate_next(1).err();
        assert_eq!(
            full.as_ref().map(cluster_ip_internal_error).as_deref(),
            Some("failed to allocate a serviceIP: range is full")
        );
        assert!(a.release("192.168.0.4"));
        assert!(!a.release("192.168.0.4"));
        assert_eq!(a.allocate_next(99).ok(), Some(Ipv4Addr::new(192, 168, 0, 4)));
        Ok(())
    }

    #[test]
    fn static_band_used_last() -> Result<(), Error> {
        let mut a = NodePortAllocator::new("30000-30099")?; // 100 ports, offset 16
        assert_eq!(a.allocations().offset, 16);
        let mut ports: Vec<i32> =
            (0..84).map(|r| a.allocate_next(r)).collect::<Result<_, _>>().map_err(|e| Error::Invalid(e.to_string()))?;
        ports.sort();
        assert_eq!((ports[0], ports[83]), (30016, 30099));
        let next = a.allocate_next(5).map_err(|e| Error::Invalid(e.to_string()))?;
        assert!(next < 30016);
        Ok(())
    }

    #[test]
    fn node_port_errors() -> Result<(), Error> {
        let mut a = NodePortAllocator::new(DEFAULT_NODE_PORT_RANGE)?;
        assert_eq!(a.allocate(30080), Ok(()));
        let err = a.allocate(30080).err().ok_or_else(|| Error::Invalid("expected an error".into()))?;
        assert_eq!(
            node_port_field_error(0, 30080, &err),
            "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"
        );
        let out = a.allocate(80).err().map(|e| e.to_string());
        assert_eq!(
            out.as_deref(),
            Some("provided port is not in the valid range. The range of valid ports is 30000-32767")
        );
        assert!(a.has(30080) && a.release(30080) && !a.has(30080));
        assert_eq!(node_port_internal_error(&AllocError::Full), "failed to allocate a nodePort: range is full");
        Ok(())
    }

    #[test]
    fn serialisation_round_trips() -> Result<(), Error> {
        let mut a = ClusterIpAllocator::new(DEFAULT_SERVICE_CIDR)?;
        a.allocate("10.96.0.1").map_err(|e| Error::Invalid(e.to_string()))?;
        for r in 0..1000u64 {
            a.allocate_next(r.wrapping_mul(0x9E37_79B9_7F4A_7C15)).map_err(|e| Error::Invalid(e.to_string()))?;
        }
        let compact = a.allocations().encode();
        assert!(compact.len() < 3000, "1000 services take {} bytes", compact.len());
        let back = ClusterIpAllocator::with_allocations(
            DEFAULT_SERVICE_CIDR,
            AllocationSet::decode(a.allocations().size(), 256, &compact)?,
        )?;
        assert_eq!(back, a);
        let upstream = a.allocations().to_range_allocation_data();
        let from_upstream = AllocationSet::from_range_allocation_data(a.allocations().size(), 256, &upstream);
        assert_eq!(&from_upstream, a.allocations());
        // Upstream's format: offset 0 is the lowest bit of the last byte.
        let mut small = AllocationSet::new(100, 0);
        small.allocate(0);
        small.allocate(9);
        assert_eq!(small.to_range_allocation_data(), vec![0b10, 0b1]);
        // A dense set switches to the bitmap.
        let mut dense = AllocationSet::new(64, 0);
        for i in 0..64 {
            dense.allocate(i);
        }
        let enc = dense.encode();
        assert_eq!(enc.first(), Some(&1));
        assert_eq!(AllocationSet::decode(64, 0, &enc)?, dense);
        assert!(AllocationSet::decode(64, 0, &[0, 200]).is_err());
        assert!(AllocationSet::decode(64, 0, &[9]).is_err());
        Ok(())
    }
}
