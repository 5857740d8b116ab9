//! Addresses: IPv4 CIDRs, the pod CIDR and InternalIP of each simulated node,
//! and the pod IP allocator of one node.
//!
//! ```text
//!  cluster podCIDR 10.244.0.0/16 ──node index i──► node podCIDR 10.244.i.0/24
//!  node podCIDR 10.244.3.0/24 ──PodIpAllocator──► 10.244.3.2 … 10.244.3.254
//!  cluster nodeIPRange 172.18.0.0/16 ──node index i──► InternalIP 172.18.0.(i+2)
//! ```
//!
//! The allocator is a bitmap (one bit per address, 32 bytes for a /24) with a
//! round-robin cursor, as the CNI `host-local` IPAM does: a freed IP is handed
//! out again once the cursor comes round, not at once, so a just-deleted pod's
//! IP does not reappear under a new pod while endpoints still list it.
//! Allocation and release are O(size/64) at worst, O(1) typically.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::Error;

/// An IPv4 network: an address with its host bits zero and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    network: u32,
    prefix: u8,
}

impl Ipv4Cidr {
    /// The network `addr/prefix`; `None` if the prefix is above 32 or host bits are set.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Option<Ipv4Cidr> {
        if prefix > 32 {
            return None;
        }
        let network = u32::from(addr);
        if network & !Self::mask(prefix) != 0 {
            return None;
        }
        Some(Ipv4Cidr { network, prefix })
    }

    fn mask(prefix: u8) -> u32 {
        if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) }
    }

    /// The network address.
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network)
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// How many addresses the network spans (2^(32-prefix)).
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// Whether `ip` lies in the network.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & Self::mask(self.prefix) == self.network
    }

    /// The `index`-th subnet of length `prefix` (`10.244.0.0/16`, 3, 24 →
    /// `10.244.3.0/24`); `None` when it does not fit.
    pub fn subnet(&self, index: u64, prefix: u8) -> Option<Ipv4Cidr> {
        if prefix < self.prefix || prefix > 32 {
            return None;
        }
        let count = 1u64 << (prefix - self.prefix);
        if index >= count {
            return None;
        }
        let step = 1u64 << (32 - u32::from(prefix));
        let network = u64::from(self.network) + index * step;
        Some(Ipv4Cidr { network: u32::try_from(network).ok()?, prefix })
    }

    /// How many subnets of length `prefix` it holds (0 if `prefix` is shorter).
    pub fn subnet_count(&self, prefix: u8) -> u64 {
        if prefix < self.prefix || prefix > 32 { 0 } else { 1u64 << (prefix - self.prefix) }
    }

    /// The address `offset` from the network address, if inside the network.
    pub fn nth(&self, offset: u64) -> Option<Ipv4Addr> {
        if offset >= self.size() {
            return None;
        }
        u32::try_from(u64::from(self.network) + offset).ok().map(Ipv4Addr::from)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || Error::InvalidCidr(s.to_owned());
        let (addr, prefix) = s.split_once('/').ok_or_else(invalid)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| invalid())?;
        if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        Ipv4Cidr::new(addr, prefix).ok_or_else(invalid)
    }
}

/// The first pod IP of a node's pod CIDR sits this far from the network
/// address: `.0` is the network and `.1` the node's bridge/gateway (as with
/// kindnet and flannel), so pods start at `.2`.
pub const FIRST_POD_IP_OFFSET: u64 = 2;

/// How many pod IPs a node pod CIDR of this prefix length offers (the
/// network, gateway and broadcast addresses excluded).
pub fn pod_ip_count(prefix: u8) -> u64 {
    let size = 1u64 << (32 - u32::from(prefix.min(32)));
    size.saturating_sub(FIRST_POD_IP_OFFSET + 1)
}

/// Hands out the pod IPs of one node's pod CIDR: `.2` up to the address
/// before the broadcast address.
#[derive(Clone, Debug)]
pub struct PodIpAllocator {
    cidr: Ipv4Cidr,
    /// One bit per pod IP (bit i = address `network + 2 + i`), set when in use.
    used: Vec<u64>,
    size: u32,
    in_use: u32,
    /// Where the next search starts (round-robin).
    cursor: u32,
}

impl PodIpAllocator {
    /// An allocator with every pod IP of `cidr` free. CIDRs below /8 are refused
    /// (a node never gets more than 16M pod IPs) and so are /31 and /32 (no pod IPs).
    pub fn new(cidr: Ipv4Cidr) -> Result<PodIpAllocator, Error> {
        let size = pod_ip_count(cidr.prefix());
        if cidr.prefix() < 8 || size == 0 {
            return Err(Error::InvalidCidr(cidr.to_string()));
        }
        let size = u32::try_from(size).map_err(|_| Error::InvalidCidr(cidr.to_string()))?;
        let words = size.div_ceil(64) as usize;
        Ok(PodIpAllocator { cidr, used: vec![0; words], size, in_use: 0, cursor: 0 })
    }

    /// An allocator for a node's `spec.podCIDR` text.
    pub fn from_cidr_text(cidr: &str) -> Result<PodIpAllocator, Error> {
        PodIpAllocator::new(cidr.parse()?)
    }

    /// The pod CIDR it allocates from.
    pub fn cidr(&self) -> Ipv4Cidr {
        self.cidr
    }

    /// How many pod IPs the CIDR offers.
    pub fn capacity(&self) -> u32 {
        self.size
    }

    /// How many pod IPs are in use.
    pub fn in_use(&self) -> u32 {
        self.in_use
    }

    fn is_set(&self, i: u32) -> bool {
        self.used.get((i / 64) as usize).is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    fn set(&mut self, i: u32, on: bool) {
        if let Some(w) = self.used.get_mut((i / 64) as usize) {
            if on {
                *w |= 1u64 << (i % 64);
            } else {
                *w &= !(1u64 << (i % 64));
            }
        }
    }

    fn addr(&self, i: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.cidr.network()).wrapping_add(FIRST_POD_IP_OFFSET as u32).wrapping_add(i))
    }

    fn index_of(&self, ip: Ipv4Addr) -> Option<u32> {
        if !self.cidr.contains(ip) {
            return None;
        }
        let offset = u32::from(ip).wrapping_sub(u32::from(self.cidr.network()));
        let i = offset.checked_sub(FIRST_POD_IP_OFFSET as u32)?;
        (i < self.size).then_some(i)
    }

    /// The first free bit at or after `from` (not wrapping).
    fn find_free_from(&self, from: u32) -> Option<u32> {
        let mut word = (from / 64) as usize;
        let mut bits = self.used.get(word).copied()? | ((1u64 << (from % 64)) - 1);
        loop {
            if bits != u64::MAX {
                let i = word as u32 * 64 + (!bits).trailing_zeros();
                return (i < self.size).then_some(i);
            }
            word += 1;
            bits = *self.used.get(word)?;
        }
    }

    /// A free pod IP (the next after the last one handed out, wrapping round),
    /// now in use; [`Error::PodIpsExhausted`] when none is free.
    pub fn allocate(&mut self) -> Result<Ipv4Addr, Error> {
        if self.in_use >= self.size {
            return Err(Error::PodIpsExhausted { cidr: self.cidr.to_string(), size: self.size });
        }
        let found = self.find_free_from(self.cursor).or_else(|| self.find_free_from(0));
        let Some(i) = found else {
            return Err(Error::PodIpsExhausted { cidr: self.cidr.to_string(), size: self.size });
        };
        self.set(i, true);
        self.in_use += 1;
        self.cursor = if i + 1 >= self.size { 0 } else { i + 1 };
        Ok(self.addr(i))
    }

    /// Marks `ip` in use (rebuilding the allocator from pods that already have
    /// IPs). `Ok(false)` if it was in use already.
    pub fn reserve(&mut self, ip: Ipv4Addr) -> Result<bool, Error> {
        let i =
            self.index_of(ip).ok_or_else(|| Error::IpOutOfRange { ip: ip.to_string(), cidr: self.cidr.to_string() })?;
        if self.is_set(i) {
            return Ok(false);
        }
        self.set(i, true);
        self.in_use += 1;
        Ok(true)
    }

    /// Frees `ip`; `false` if it was not in use or not a pod IP of this CIDR.
    pub fn release(&mut self, ip: Ipv4Addr) -> bool {
        match self.index_of(ip) {
            Some(i) if self.is_set(i) => {
                self.set(i, false);
                self.in_use -= 1;
                true
            }
            _ => false,
        }
    }

    /// Whether `ip` is in use.
    pub fn is_allocated(&self, ip: Ipv4Addr) -> bool {
        self.index_of(ip).is_some_and(|i| self.is_set(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_cidrs() {
        assert_eq!(cidr("10.244.0.0/16").to_string(), "10.244.0.0/16");
        assert_eq!(cidr("0.0.0.0/0").size(), 1 << 32);
        for bad in ["10.244.0.1/16", "10.244.0.0", "10.244.0.0/33", "10.244.0.0/", "x/8", "10.0.0.0/+8"] {
            assert_eq!(bad.parse::<Ipv4Cidr>(), Err(Error::InvalidCidr(bad.to_owned())), "{bad}");
        }
        assert_eq!(
            Error::InvalidCidr("x".into()).to_string(),
            "invalid CIDR \"x\": expected an IPv4 network such as \"10.244.0.0/16\""
        );
    }

    #[test]
    fn subnets_by_index() {
        let c = cidr("10.244.0.0/16");
        assert_eq!(c.subnet(0, 24).unwrap().to_string(), "10.244.0.0/24");
        assert_eq!(c.subnet(3, 24).unwrap().to_string(), "10.244.3.0/24");
        assert_eq!(c.subnet(255, 24).unwrap().to_string(), "10.244.255.0/24");
        assert_eq!(c.subnet(256, 24), None);
        assert_eq!(c.subnet_count(24), 256);
        assert_eq!(c.subnet(0, 8), None);
        assert_eq!(c.nth(2).unwrap(), Ipv4Addr::new(10, 244, 0, 2));
        assert_eq!(c.nth(65536), None);
        assert!(c.contains(Ipv4Addr::new(10, 244, 9, 9)));
        assert!(!c.contains(Ipv4Addr::new(10, 245, 0, 0)));
    }

    #[test]
    fn allocates_from_dot_two_in_order() {
        let mut a = PodIpAllocator::from_cidr_text("10.244.3.0/24").unwrap();
        assert_eq!(a.capacity(), 253);
        assert_eq!(a.allocate().unwrap(), Ipv4Addr::new(10, 244, 3, 2));
        assert_eq!(a.allocate().unwrap(), Ipv4Addr::new(10, 244, 3, 3));
        assert_eq!(a.in_use(), 2);
        assert!(a.is_allocated(Ipv4Addr::new(10, 244, 3, 2)));
        assert!(!a.is_allocated(Ipv4Addr::new(10, 244, 3, 4)));
    }

    #[test]
    fn exhaustion_then_reuse_of_a_freed_ip() {
        let mut a = PodIpAllocator::from_cidr_text("10.0.0.0/28").unwrap();
        assert_eq!(a.capacity(), 13);
        let ips: Vec<Ipv4Addr> = (0..13).map(|_| a.allocate().unwrap()).collect();
        assert_eq!(ips.first(), Some(&Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(ips.last(), Some(&Ipv4Addr::new(10, 0, 0, 14)));
        let err = a.allocate().unwrap_err();
        assert_eq!(err.to_string(), "no pod IPs left in 10.0.0.0/28: all 13 addresses are in use");
        assert!(a.release(Ipv4Addr::new(10, 0, 0, 7)));
        assert!(!a.release(Ipv4Addr::new(10, 0, 0, 7)), "double release");
        assert_eq!(a.allocate().unwrap(), Ipv4Addr::new(10, 0, 0, 7));
        assert!(a.allocate().is_err());
    }

    #[test]
    fn round_robin_does_not_reuse_at_once() {
        let mut a = PodIpAllocator::from_cidr_text("10.0.0.0/24").unwrap();
        let first = a.allocate().unwrap();
        assert!(a.release(first));
        assert_eq!(a.allocate().unwrap(), Ipv4Addr::new(10, 0, 0, 3));
    }

    #[test]
    fn reserve_and_out_of_range() {
        let mut a = PodIpAllocator::from_cidr_text("10.244.1.0/24").unwrap();
        assert_eq!(a.reserve(Ipv4Addr::new(10, 244, 1, 2)), Ok(true));
        assert_eq!(a.reserve(Ipv4Addr::new(10, 244, 1, 2)), Ok(false));
        assert_eq!(a.allocate().unwrap(), Ipv4Addr::new(10, 244, 1, 3));
        for bad in [Ipv4Addr::new(10, 244, 1, 1), Ipv4Addr::new(10, 244, 1, 255), Ipv4Addr::new(10, 244, 2, 2)] {
            assert_eq!(a.reserve(bad).unwrap_err().to_string(), format!("{bad} is not a pod IP of 10.244.1.0/24"));
            assert!(!a.release(bad));
        }
        assert!(PodIpAllocator::from_cidr_text("10.0.0.0/31").is_err());
        assert!(PodIpAllocator::from_cidr_text("10.0.0.0/7").is_err());
    }

    #[test]
    fn large_cidr_wraps_across_words() {
        let mut a = PodIpAllocator::from_cidr_text("10.1.0.0/22").unwrap();
        assert_eq!(a.capacity(), 1021);
        for _ in 0..1021 {
            a.allocate().unwrap();
        }
        assert!(a.allocate().is_err());
        assert!(a.release(Ipv4Addr::new(10, 1, 0, 200)));
        assert!(a.release(Ipv4Addr::new(10, 1, 3, 254)));
        assert_eq!(a.allocate().unwrap(), Ipv4Addr::new(10, 1, 0, 200));
        assert_eq!(a.allocate().unwrap(), Ipv4Addr::new(10, 1, 3, 254));
    }
}
