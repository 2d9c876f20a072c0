//! [`BrokerAddress`]: `host:port` as Kafka writes it, keeping the host name for TLS.

use std::fmt;
use std::str::FromStr;

use crate::NetError;

/// Kafka's default port, used when an address has none.
pub const DEFAULT_PORT: u16 = 9092;

/// A broker's host (name or IP literal) and port.
///
/// ```
/// use klamm_net::BrokerAddress;
///
/// let addr: BrokerAddress = "[::1]:9093".parse()?;
/// assert_eq!((addr.host(), addr.port()), ("::1", 9093));
/// assert_eq!("kafka-1".parse::<BrokerAddress>()?.port(), 9092);
/// # Ok::<(), klamm_net::NetError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BrokerAddress {
    host: String,
    port: u16,
}

impl BrokerAddress {
    /// An address from its parts.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        BrokerAddress {
            host: host.into(),
            port,
        }
    }

    /// The host name or IP literal (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for BrokerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for BrokerAddress {
    type Err = NetError;

    fn from_str(addr: &str) -> Result<Self, NetError> {
        let invalid = |reason| NetError::InvalidAddress {
            addr: addr.to_owned(),
            reason,
        };
        let addr_trimmed = addr.trim();
        let (host, port) = if let Some(rest) = addr_trimmed.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(|| invalid("missing `]`"))?;
            match after {
                "" => (host, None),
                _ => (
                    host,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or_else(|| invalid("expected `:` after `]`"))?,
                    ),
                ),
            }
        } else if addr_trimmed.matches(':').count() > 1 {
            (addr_trimmed, None) // a bare IPv6 literal
        } else {
            match addr_trimmed.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (addr_trimmed, None),
            }
        };
        if host.is_empty() {
            return Err(invalid("empty host"));
        }
        let port = match port {
            None => DEFAULT_PORT,
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| invalid("port is not a number from 1 to 65535"))?,
        };
        Ok(BrokerAddress::new(host, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_ipv4_and_bracketed_ipv6() {
        let cases = [
            ("localhost:9093", "localhost", 9093),
            ("127.0.0.1", "127.0.0.1", 9092),
            ("[::1]:1", "::1", 1),
            ("[fe80::1]", "fe80::1", 9092),
            ("fe80::1", "fe80::1", 9092),
        ];
        for (text, host, port) in cases {
            let addr: BrokerAddress = text.parse().unwrap();
            assert_eq!((addr.host(), addr.port()), (host, port), "{text}");
        }
        assert_eq!(BrokerAddress::new("::1", 5).to_string(), "[::1]:5");
    }

    #[test]
    fn rejects_bad_ports_and_empty_hosts() {
        for text in ["host:0", "host:x", ":9092", "[::1", "[::1]x", "host:70000"] {
            assert!(
                matches!(
                    text.parse::<BrokerAddress>(),
                    Err(NetError::InvalidAddress { .. })
                ),
                "{text}"
            );
        }
    }
}
