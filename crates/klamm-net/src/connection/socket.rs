//! Opening the byte stream: resolve, TCP connect with the configured socket options (or the
//! configured [`Connector`](crate::Connector)'s stream), within `connect_timeout`, then the
//! TLS handshake if the protocol asks for one.

use std::io;
use std::net::SocketAddr;

use socket2::{SockRef, TcpKeepalive};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

use crate::{tls, BrokerAddress, ConnectionConfig, NetError, Phase, SocketOption, Transport};

/// What the TLS handshake of a connection settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsSession {
    /// Whether the session was resumed from an earlier connection's (an abbreviated
    /// handshake: no certificate exchange).
    pub resumed: bool,
}

/// Connects to `addr` and, for SSL / SASL_SSL, completes the TLS handshake.
pub(crate) async fn open(
    addr: &BrokerAddress,
    config: &ConnectionConfig,
) -> Result<(Box<dyn Transport>, Option<TlsSession>), NetError> {
    let label = addr.to_string();
    let connect = async {
        match &config.connector {
            Some(connector) => connector
                .connect(addr)
                .await
                .map_err(|source| NetError::Connect {
                    addr: label.clone(),
                    cause: source.into(),
                }),
            None => connect_tcp(addr, config)
                .await
                .map(|tcp| Box::new(tcp) as Box<dyn Transport>),
        }
    };
    let stream = timeout(config.connect_timeout, connect)
        .await
        .map_err(|_| NetError::Timeout {
            addr: label.clone(),
            phase: Phase::Connect,
            after: config.connect_timeout,
        })??;
    if !config.security_protocol.uses_tls() {
        return Ok((stream, None));
    }
    let tls_config = config.tls.rustls_config().await?;
    let server_name = tls::server_name(&config.tls, addr.host())?;
    let connector = tokio_rustls::TlsConnector::from(tls_config);
    let stream = timeout(
        config.connect_timeout,
        connector.connect(server_name, stream),
    )
    .await
    .map_err(|_| NetError::Timeout {
        addr: label.clone(),
        phase: Phase::TlsHandshake,
        after: config.connect_timeout,
    })?
    .map_err(|error| tls::map_io_error(&label, error))?;
    let session = TlsSession {
        resumed: stream.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
    };
    Ok((Box::new(stream), Some(session)))
}

async fn connect_tcp(
    addr: &BrokerAddress,
    config: &ConnectionConfig,
) -> Result<TcpStream, NetError> {
    let label = addr.to_string();
    let candidates: Vec<SocketAddr> = tokio::net::lookup_host((addr.host(), addr.port()))
        .await
        .map_err(|source| NetError::Resolve {
            addr: label.clone(),
            cause: source.into(),
        })?
        .collect();
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "the name resolved to no address");
    for candidate in candidates {
        match connect_one(candidate, config).await {
            Ok(stream) => return Ok(stream),
            Err(error) => {
                tracing::debug!(addr = %label, %candidate, %error, "connect attempt failed");
                last_error = error;
            }
        }
    }
    Err(NetError::Connect {
        addr: label,
        cause: last_error.into(),
    })
}

async fn connect_one(addr: SocketAddr, config: &ConnectionConfig) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // Buffer sizes must be set before connecting to affect TCP window scaling.
    if let Some(bytes) = config.receive_buffer_bytes {
        socket.set_recv_buffer_size(u32::try_from(bytes).unwrap_or(u32::MAX))?;
    }
    if let Some(bytes) = config.send_buffer_bytes {
        socket.set_send_buffer_size(u32::try_from(bytes).unwrap_or(u32::MAX))?;
    }
    {
        let sock = SockRef::from(&socket);
        for option in &config.socket_options {
            apply(&sock, option)?;
        }
        if let Some(hook) = &config.socket_hook {
            hook(&sock)?;
        }
    }
    socket.connect(addr).await
}

fn apply(sock: &SockRef<'_>, option: &SocketOption) -> io::Result<()> {
    match option {
        SocketOption::NoDelay(on) => sock.set_tcp_nodelay(*on),
        SocketOption::KeepAlive(None) => sock.set_keepalive(true),
        SocketOption::KeepAlive(Some(idle)) => {
            sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(*idle))
        }
        SocketOption::Linger(linger) => sock.set_linger(*linger),
        SocketOption::Ttl(ttl) => sock.set_ttl_v4(*ttl),
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
        SocketOption::UserTimeout(timeout) => sock.set_tcp_user_timeout(*timeout),
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "fuchsia")))]
        SocketOption::UserTimeout(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nodelay_and_buffer_sizes_are_applied_before_connect() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let config = ConnectionConfig::builder()
            .receive_buffer_bytes(65536)
            .socket_option(SocketOption::KeepAlive(None))
            .build()
            .unwrap();
        let stream = connect_tcp(&BrokerAddress::new("127.0.0.1", port), &config)
            .await
            .unwrap();
        let sock = SockRef::from(&stream);
        assert!(sock.tcp_nodelay().unwrap());
        assert!(sock.keepalive().unwrap());
        // Linux doubles the requested size for bookkeeping; it is at least what we asked.
        assert!(sock.recv_buffer_size().unwrap() >= 65536);
    }

    #[tokio::test]
    async fn refused_connection_names_the_address() {
        // Bind then drop a listener to get a port nobody listens on.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let error = connect_tcp(
            &BrokerAddress::new("127.0.0.1", port),
            &ConnectionConfig::default(),
        )
        .await
        .unwrap_err();
        match &error {
            NetError::Connect {
                addr,
                cause: source,
            } => {
                assert_eq!(addr, &format!("127.0.0.1:{port}"));
                assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
            }
            other => panic!("{other}"),
        }
    }
}
