//! What a connection runs on: any byte stream ([`Transport`]), opened by TCP or by a
//! [`Connector`] of the caller's (a proxy, a tunnel, an in-memory broker in tests). TLS, when
//! the security protocol asks for it, runs on top of either.

use std::future::Future;
use std::io;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::BrokerAddress;

/// A byte stream a connection can run on: a TCP or TLS stream, a proxy's stream, an in-memory
/// pipe.
pub trait Transport: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Transport for T {}

/// The future a [`Connector`] returns.
pub type ConnectFuture<'a> =
    Pin<Box<dyn Future<Output = io::Result<Box<dyn Transport>>> + Send + 'a>>;

/// Opens the byte stream to a broker in place of a TCP connection.
///
/// The connect timeout still applies, and TLS still runs on top for `SSL` and `SASL_SSL`.
///
/// ```
/// use klamm_net::{BrokerAddress, ConnectFuture, Connector, Transport};
///
/// /// Every broker is reached through one local tunnel port.
/// struct Tunnel(u16);
///
/// impl Connector for Tunnel {
///     fn connect<'a>(&'a self, _broker: &'a BrokerAddress) -> ConnectFuture<'a> {
///         Box::pin(async move {
///             let stream = tokio::net::TcpStream::connect(("127.0.0.1", self.0)).await?;
///             Ok(Box::new(stream) as Box<dyn Transport>)
///         })
///     }
/// }
/// ```
pub trait Connector: Send + Sync + 'static {
    /// Opens a stream to `broker`.
    fn connect<'a>(&'a self, broker: &'a BrokerAddress) -> ConnectFuture<'a>;
}
