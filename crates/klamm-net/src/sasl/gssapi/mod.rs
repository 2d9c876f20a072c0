//! SASL/GSSAPI (Kerberos V5, RFC 4752) as Kafka speaks it, through the system's MIT Kerberos
//! library (feature `gssapi`).
//!
//! - [`layer`]: the RFC 4752 security-layer messages, plain bytes.
//! - [`client`]: the exchange as a sans-IO state machine over a [`SecurityContext`].
//! - `ffi` / `system`: `libgssapi_krb5.so.2` opened at run time, and owners for its handles.
//!   The only `unsafe` code of the crate lives there.
//! - [`GssapiConfig`]: kafka-python's `sasl_kerberos_*` settings plus librdkafka's keytab and
//!   principal.
//!
//! GSS-API calls block (the first one may ask the KDC for a service ticket) and their context
//! handle may not move between threads, so each exchange runs its context on a worker thread of
//! its own and the async connection only passes messages to it (`GssapiExchange`): the
//! connection future stays `Send`, and no async task blocks.
//!
//! Where the credentials come from:
//! - `sasl_kerberos_keytab` (+ `sasl_kerberos_principal`): the client logs in with the keytab
//!   into a private in-memory credential cache (`gss_acquire_cred_from`), renewing the ticket
//!   from the keytab when it expires — what librdkafka's `sasl.kerberos.keytab` does with
//!   `kinit`, without a child process.
//! - otherwise the library's defaults: the credential cache `KRB5CCNAME` (after `kinit`), and
//!   if that is empty the client keytab `KRB5_CLIENT_KTNAME`; `sasl_kerberos_principal` alone
//!   picks that principal from the cache collection.
//!
//! Which KDC and realm: the Kerberos configuration (`/etc/krb5.conf`, or the file named by
//! `KRB5_CONFIG`).

pub mod client;
#[allow(unsafe_code)]
mod ffi;
pub mod layer;
mod status;
#[allow(unsafe_code)]
mod system;

use std::path::PathBuf;
use std::sync::mpsc;

use tokio::sync::oneshot;

pub use client::{GssapiClient, SecurityContext};
pub use ffi::{DEFAULT_LIBRARY, LIBRARY_ENV_VAR};

/// What goes wrong on the client side of a GSSAPI exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GssapiError {
    /// The GSS-API library could not be loaded (or lacks a function).
    #[error("cannot use the GSS-API library `{library}`: {reason} (install MIT Kerberos, e.g. `apt-get install libgssapi-krb5-2`, or name the library in ${})", ffi::LIBRARY_ENV_VAR)]
    LibraryUnavailable {
        /// The library name or path tried.
        library: String,
        /// The loader's message.
        reason: String,
    },
    /// A GSS-API call failed; `message` is the library's own text for both status codes.
    #[error("{call} failed: {message} (major status {major:#010x}, minor status {minor})")]
    Call {
        /// The function, e.g. `gss_init_sec_context`.
        call: &'static str,
        /// The major status code (RFC 2744).
        major: u32,
        /// The mechanism's (Kerberos') minor status code.
        minor: u32,
        /// `gss_display_status` of both codes, e.g. "Unspecified GSS failure.  Minor code may
        /// provide more information: Server not found in Kerberos database".
        message: String,
    },
    /// No credential could be had for the configured principal or keytab: the keytab holds no
    /// key for the principal (MIT then reports the empty credential cache it fell back to), the
    /// keytab is unreadable, the cache holds no ticket for the principal, or logging in with
    /// the keytab could not reach the KDC (retriable, see [`GssapiError::is_retriable`]).
    #[error("no Kerberos credentials for {} (keytab {}): {cause}", principal.as_deref().unwrap_or("the default principal"), keytab.as_ref().map_or("none".into(), |k| k.display().to_string()))]
    NoCredentials {
        /// `sasl_kerberos_principal`, if set.
        principal: Option<String>,
        /// `sasl_kerberos_keytab`, if set.
        keytab: Option<PathBuf>,
        /// The failed call (`gss_acquire_cred` or `gss_acquire_cred_from`).
        cause: Box<GssapiError>,
    },
    /// The security-layer negotiation that ends the exchange broke down.
    #[error("GSSAPI security-layer negotiation failed: {reason}")]
    SecurityLayer {
        /// What was wrong.
        reason: String,
    },
    /// A setting cannot be passed to the library.
    #[error("invalid GSSAPI setting: {reason}")]
    InvalidSetting {
        /// What was wrong.
        reason: String,
    },
    /// The exchange's worker thread could not start or went away.
    #[error("the GSSAPI worker thread is gone: {reason}")]
    WorkerGone {
        /// Why.
        reason: String,
    },
}

impl GssapiError {
    /// Whether a new attempt may succeed: the KDC could not be reached or was briefly unable
    /// to serve (MIT minor status `KRB5_KDC_UNREACH`, `KRB5KDC_ERR_SVC_UNAVAILABLE`,
    /// `KRB5_REALM_CANT_RESOLVE`), whichever call reported it. Wrong or missing credentials,
    /// unknown principals, a missing library and bad settings are not retriable.
    ///
    /// ```
    /// use klamm_net::sasl::gssapi::GssapiError;
    ///
    /// let kdc_down = GssapiError::Call {
    ///     call: "gss_init_sec_context",
    ///     major: 0x000d_0000, // GSS_S_FAILURE
    ///     minor: 0x96c7_3a9c, // KRB5_KDC_UNREACH
    ///     message: "Cannot contact any KDC for realm 'EXAMPLE.COM'".into(),
    /// };
    /// assert!(kdc_down.is_retriable());
    /// ```
    pub fn is_retriable(&self) -> bool {
        match self {
            GssapiError::Call { major, minor, .. } => status::is_transient(*major, *minor),
            GssapiError::NoCredentials { cause: source, .. } => source.is_retriable(),
            GssapiError::LibraryUnavailable { .. }
            | GssapiError::SecurityLayer { .. }
            | GssapiError::InvalidSetting { .. }
            | GssapiError::WorkerGone { .. } => false,
        }
    }
}

/// The settings of SASL/GSSAPI; defaults are kafka-python's.
///
/// ```
/// use klamm_net::sasl::gssapi::GssapiConfig;
///
/// let config = GssapiConfig::default()
///     .keytab("/etc/security/keytabs/ops.keytab")
///     .principal("ops@EXAMPLE.COM");
/// assert_eq!(config.service_principal("kafka-1.example.com"), "kafka@kafka-1.example.com");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GssapiConfig {
    /// `sasl_kerberos_service_name`: the first part of the broker's principal (default
    /// `kafka`, for `kafka/<host>@REALM`).
    pub service_name: String,
    /// `sasl_kerberos_domain_name`: the host part of the broker's principal, instead of the
    /// host connected to (for brokers reached by IP or through an alias).
    pub domain_name: Option<String>,
    /// `sasl_kerberos_principal` (librdkafka's name): the client principal to authenticate as.
    pub principal: Option<String>,
    /// `sasl_kerberos_keytab` (librdkafka's name): log in with this keytab instead of using the
    /// credential cache.
    pub keytab: Option<PathBuf>,
}

impl Default for GssapiConfig {
    fn default() -> Self {
        GssapiConfig {
            service_name: "kafka".to_owned(),
            domain_name: None,
            principal: None,
            keytab: None,
        }
    }
}

impl GssapiConfig {
    /// With `service_name` as the broker's service.
    pub fn service_name(mut self, service_name: impl Into<String>) -> Self {
        self.service_name = service_name.into();
        self
    }

    /// With `domain_name` as the broker principal's host part.
    pub fn domain_name(mut self, domain_name: impl Into<String>) -> Self {
        self.domain_name = Some(domain_name.into());
        self
    }

    /// Authenticating as `principal`.
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.principal = Some(principal.into());
        self
    }

    /// Logging in with the keytab at `path`.
    pub fn keytab(mut self, path: impl Into<PathBuf>) -> Self {
        self.keytab = Some(path.into());
        self
    }

    /// The GSS-API host-based service name of the broker at `host`: `service@host`.
    pub fn service_principal(&self, host: &str) -> String {
        let host = self.domain_name.as_deref().unwrap_or(host);
        format!("{}@{host}", self.service_name)
    }

    /// Checks the settings without touching the library.
    pub fn validate(&self) -> Result<(), GssapiError> {
        let invalid = |reason: &str| {
            Err(GssapiError::InvalidSetting {
                reason: reason.to_owned(),
            })
        };
        if self.service_name.is_empty() || self.service_name.contains(['@', '/', '\0']) {
            return invalid(
                "sasl_kerberos_service_name must be a non-empty name without `@` or `/`",
            );
        }
        if self
            .domain_name
            .as_deref()
            .is_some_and(|domain| domain.is_empty() || domain.contains(['@', '/', '\0']))
        {
            return invalid("sasl_kerberos_domain_name must be a host name");
        }
        if self
            .principal
            .as_deref()
            .is_some_and(|principal| principal.is_empty() || principal.contains('\0'))
        {
            return invalid("sasl_kerberos_principal must be a non-empty principal name");
        }
        Ok(())
    }
}

/// One GSSAPI exchange whose security context lives on a worker thread.
///
/// Dropping it (e.g. with a cancelled connect) ends the worker, which deletes the context on
/// its own thread once the call in progress, if any, returns.
#[derive(Debug)]
pub(crate) struct GssapiExchange {
    requests: mpsc::Sender<Step>,
    target: String,
}

/// One message for the worker: the server's token (`None` for the first client message).
struct Step {
    server: Option<Vec<u8>>,
    reply: oneshot::Sender<Result<Option<Vec<u8>>, GssapiError>>,
}

impl GssapiExchange {
    /// Starts the worker for the broker at `host`.
    pub(crate) fn start(config: &GssapiConfig, host: &str) -> Result<Self, GssapiError> {
        config.validate()?;
        let target = config.service_principal(host);
        let (requests, inbox) = mpsc::channel::<Step>();
        let (config, worker_target) = (config.clone(), target.clone());
        std::thread::Builder::new()
            .name("klamm-gssapi".to_owned())
            .spawn(move || run_worker(&config, &worker_target, inbox))
            .map_err(|error| GssapiError::WorkerGone {
                reason: format!("cannot start it: {error}"),
            })?;
        Ok(GssapiExchange { requests, target })
    }

    /// The broker's service name, e.g. `kafka@broker-1`.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// The first client message.
    pub(crate) async fn client_first(&mut self) -> Result<Vec<u8>, GssapiError> {
        Ok(self.step(None).await?.unwrap_or_default())
    }

    /// The answer to a server message, `None` once authenticated.
    pub(crate) async fn receive(
        &mut self,
        server_message: &[u8],
    ) -> Result<Option<Vec<u8>>, GssapiError> {
        self.step(Some(server_message.to_vec())).await
    }

    async fn step(&mut self, server: Option<Vec<u8>>) -> Result<Option<Vec<u8>>, GssapiError> {
        let gone = || GssapiError::WorkerGone {
            reason: "it stopped before answering".to_owned(),
        };
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Step { server, reply })
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// The worker: owns the (non-`Send`) context from creation to drop, answers steps in order and
/// ends after the first failure or when the exchange is dropped.
fn run_worker(config: &GssapiConfig, target: &str, inbox: mpsc::Receiver<Step>) {
    let mut client = system::MitContext::new(config, target).map(GssapiClient::new);
    for Step { server, reply } in inbox {
        let result = match (&mut client, server) {
            (Err(error), _) => Err(error.clone()),
            (Ok(client), None) => client.client_first().map(Some),
            (Ok(client), Some(server)) => client.receive(&server),
        };
        let failed = result.is_err();
        let _ = reply.send(result);
        if failed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_kafka_python_and_domain_name_overrides_the_host() {
        let config = GssapiConfig::default();
        assert_eq!(config.service_name, "kafka");
        assert_eq!(config.service_principal("10.0.0.7"), "kafka@10.0.0.7");
        let aliased = config.service_name("kfk").domain_name("broker-1.example");
        assert_eq!(
            aliased.service_principal("10.0.0.7"),
            "kfk@broker-1.example"
        );
    }

    #[test]
    fn validate_rejects_unusable_names() {
        assert!(GssapiConfig::default().validate().is_ok());
        for bad in [
            GssapiConfig::default().service_name(""),
            GssapiConfig::default().service_name("kafka/host"),
            GssapiConfig::default().domain_name("a@b"),
            GssapiConfig::default().principal(""),
        ] {
            assert!(
                matches!(bad.validate(), Err(GssapiError::InvalidSetting { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn call_error_shows_call_codes_and_library_text() {
        let error = GssapiError::Call {
            call: "gss_init_sec_context",
            major: 0x000d_0000,
            minor: 2_529_638_919,
            message: "Server not found in Kerberos database".into(),
        };
        let text = error.to_string();
        assert!(text.contains("gss_init_sec_context"), "{text}");
        assert!(text.contains("0x000d0000"), "{text}");
        assert!(text.contains("Server not found"), "{text}");
    }

    #[test]
    fn only_kdc_reachability_failures_are_retriable() {
        let call = |minor| GssapiError::Call {
            call: "gss_init_sec_context",
            major: 0x000d_0000,
            minor,
            message: String::new(),
        };
        let unreachable = call(status::KRB5_KDC_UNREACH);
        assert!(unreachable.is_retriable());
        // KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN: the broker's service is not in the KDC.
        assert!(!call(0x96c7_3a07).is_retriable());
        let no_credentials = |source| GssapiError::NoCredentials {
            principal: Some("ops@EXAMPLE.COM".into()),
            keytab: None,
            cause: Box::new(source),
        };
        assert!(no_credentials(unreachable.clone()).is_retriable());
        // KRB5_KT_NOTFOUND: the keytab has no key for the principal.
        assert!(!no_credentials(call(0x96c7_3ab5)).is_retriable());
        let missing_library = GssapiError::LibraryUnavailable {
            library: DEFAULT_LIBRARY.into(),
            reason: "cannot open shared object file".into(),
        };
        assert!(!missing_library.is_retriable());
        let invalid = GssapiError::InvalidSetting {
            reason: "bad".into(),
        };
        assert!(!invalid.is_retriable());
    }

    #[test]
    fn worker_reports_a_failed_context_and_stops() {
        // A keytab that does not exist yields no credentials, whatever the machine's Kerberos
        // set-up (no KDC is asked): the first step fails with a typed error and the worker
        // ends, so the second step finds it gone.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let config = GssapiConfig::default()
                .keytab("/nonexistent/klamm.keytab")
                .principal("nobody@KLAMM.INVALID");
            let mut exchange = GssapiExchange::start(&config, "localhost").unwrap();
            assert_eq!(exchange.target(), "kafka@localhost");
            let error = exchange.client_first().await.unwrap_err();
            match &error {
                GssapiError::NoCredentials {
                    principal,
                    cause: source,
                    ..
                } => {
                    assert_eq!(principal.as_deref(), Some("nobody@KLAMM.INVALID"));
                    assert!(matches!(**source, GssapiError::Call { .. }), "{source}");
                }
                // A machine without MIT Kerberos cannot get that far.
                GssapiError::LibraryUnavailable { .. } => {}
                other => panic!("{other}"),
            }
            assert!(
                error.to_string().contains("/nonexistent/klamm.keytab"),
                "{error}"
            );
            let again = exchange.receive(b"x").await.unwrap_err();
            assert!(matches!(again, GssapiError::WorkerGone { .. }), "{again}");
        });
    }
}
