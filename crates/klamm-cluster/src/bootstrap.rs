//! [`BootstrapServers`]: the `bootstrap_servers` setting, parsed the way kafka-python and the
//! Java client read it: one comma-separated string or a list of `host[:port]` entries, default
//! port 9092, IPv6 literals in brackets, and `localhost:9092` when nothing is given.
//!
//! Only parsing lives here; connecting to the list is in the `cluster` module.

use std::fmt;
use std::str::FromStr;

use klamm_net::BrokerAddress;

use crate::ClusterError;

/// The address used when no bootstrap server is given.
pub const DEFAULT_BOOTSTRAP: &str = "localhost:9092";

/// The brokers to ask for the first cluster metadata. Any one that answers is enough.
///
/// ```
/// use klamm_cluster::BootstrapServers;
///
/// let servers: BootstrapServers = "kafka-1:9093, kafka-2,[::1]:9094".parse()?;
/// let text: Vec<String> = servers.addresses().iter().map(|a| a.to_string()).collect();
/// assert_eq!(text, ["kafka-1:9093", "kafka-2:9092", "[::1]:9094"]);
/// assert_eq!(BootstrapServers::default().to_string(), "localhost:9092");
/// # Ok::<(), klamm_cluster::ClusterError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapServers {
    addresses: Vec<BrokerAddress>,
}

impl BootstrapServers {
    /// Parses each entry; an entry may itself hold several comma-separated addresses. Empty
    /// entries are skipped; no addresses at all means `localhost:9092`.
    pub fn parse<I, S>(entries: I) -> Result<Self, ClusterError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut addresses: Vec<BrokerAddress> = Vec::new();
        for entry in entries {
            for part in entry.as_ref().split(',') {
                let part = part.trim();
                if part.is_empty() {
                    continue;
                }
                let addr = part.parse::<BrokerAddress>().map_err(|source| {
                    ClusterError::InvalidBootstrapAddress {
                        entry: part.to_owned(),
                        cause: Box::new(source),
                    }
                })?;
                // Listing a broker twice would only make the bootstrap try it twice.
                if !addresses.contains(&addr) {
                    addresses.push(addr);
                }
            }
        }
        if addresses.is_empty() {
            return Ok(Self::default());
        }
        Ok(BootstrapServers { addresses })
    }

    /// The addresses, in the order given.
    pub fn addresses(&self) -> &[BrokerAddress] {
        &self.addresses
    }
}

impl Default for BootstrapServers {
    fn default() -> Self {
        BootstrapServers {
            addresses: vec![BrokerAddress::new("localhost", klamm_net::DEFAULT_PORT)],
        }
    }
}

impl FromStr for BootstrapServers {
    type Err = ClusterError;

    fn from_str(text: &str) -> Result<Self, ClusterError> {
        Self::parse([text])
    }
}

impl fmt::Display for BootstrapServers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, addr) in self.addresses.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{addr}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(servers: &BootstrapServers) -> Vec<String> {
        servers.addresses().iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn comma_separated_string_with_default_port_and_ipv6() {
        let servers: BootstrapServers = " a:1 ,b,[::1]:9093,[fe80::2]".parse().unwrap();
        assert_eq!(
            texts(&servers),
            ["a:1", "b:9092", "[::1]:9093", "[fe80::2]:9092"]
        );
    }

    #[test]
    fn list_of_entries_is_flattened_and_deduplicated() {
        let servers = BootstrapServers::parse(["a:1", "b:2,a:1", "c"]).unwrap();
        assert_eq!(texts(&servers), ["a:1", "b:2", "c:9092"]);
    }

    #[test]
    fn nothing_given_means_localhost_9092() {
        for empty in [
            BootstrapServers::parse(Vec::<String>::new()).unwrap(),
            "".parse().unwrap(),
            " , ".parse().unwrap(),
        ] {
            assert_eq!(texts(&empty), [DEFAULT_BOOTSTRAP]);
        }
    }

    #[test]
    fn bad_entry_is_named_in_the_error() {
        let error = "good:9092,bad:notaport"
            .parse::<BootstrapServers>()
            .unwrap_err();
        match &error {
            ClusterError::InvalidBootstrapAddress { entry, .. } => {
                assert_eq!(entry, "bad:notaport")
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(error.to_string().contains("bad:notaport"), "{error}");
    }
}
