//! IPv4 ranges: parsing `a.b.c.d/n`, overlap with host routes, and the
//! default range's choice.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network (the address masked to its prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: u32,
    prefix: u8,
}

impl Cidr {
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Option<Self> {
        (prefix <= 32).then(|| Self { network: u32::from(addr) & mask(prefix), prefix })
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network)
    }

    /// Addresses in the range, network and broadcast included.
    pub fn size(&self) -> u32 {
        1u32.checked_shl(u32::from(32 - self.prefix)).unwrap_or(u32::MAX)
    }

    /// The `index`-th address of the range.
    pub fn host(&self, index: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.network.wrapping_add(index))
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        let prefix = self.prefix.min(other.prefix);
        self.network & mask(prefix) == other.network & mask(prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = s.split_once('/').ok_or_else(|| format!("{s:?} is not ADDRESS/PREFIX"))?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
        let prefix: u8 =
            prefix.parse().ok().filter(|p| *p <= 32).ok_or_else(|| format!("{prefix:?} is not a prefix"))?;
        Cidr::new(addr, prefix).ok_or_else(|| format!("{s:?} is not a range"))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

/// The first /20 of `100.96.0.0/11` (shared address space, rarely routed
/// on hosts) that no route overlaps. The default route (`0.0.0.0/0`) is
/// not counted.
pub fn pick_free(routes: &[Cidr]) -> Option<Cidr> {
    let pool = Cidr::new(Ipv4Addr::new(100, 96, 0, 0), 11)?;
    let specific: Vec<&Cidr> = routes.iter().filter(|r| r.prefix > 0).collect();
    (0..pool.size() / 4096)
        .map(|i| Cidr { network: pool.network + i * 4096, prefix: 20 })
        .find(|c| !specific.iter().any(|r| r.overlaps(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_masks_and_overlaps() {
        let c: Cidr = "10.1.2.3/16".parse().unwrap();
        assert_eq!(c.to_string(), "10.1.0.0/16");
        assert_eq!((c.size(), c.host(1)), (65536, Ipv4Addr::new(10, 1, 0, 1)));
        assert!(c.overlaps(&"10.1.200.0/24".parse().unwrap()));
        assert!(c.overlaps(&"10.0.0.0/8".parse().unwrap()));
        assert!(!c.overlaps(&"10.2.0.0/16".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nope/8".parse::<Cidr>().is_err());
    }

    #[test]
    fn the_default_range_avoids_host_routes_but_not_the_default_route() {
        let routes: Vec<Cidr> =
            ["0.0.0.0/0", "100.96.0.0/20", "100.96.16.0/24"].iter().map(|r| r.parse().unwrap()).collect();
        assert_eq!(pick_free(&routes).unwrap().to_string(), "100.96.32.0/20");
        let all: Vec<Cidr> = vec!["100.64.0.0/10".parse().unwrap()];
        assert_eq!(pick_free(&all), None);
    }
}
