//! [`ClientConfigError`]: what is wrong with the security flags, the `--command-config` file or
//! the two together, reported before any connection is attempted.

use std::io;
use std::path::PathBuf;

use klamm_admin::AdminError;

use super::SASL_PASSWORD_ENV;
use crate::output::{explain, Failure};

/// Why the flags and the `--command-config` file do not make a usable client configuration.
/// The message says why; [`subject`](ClientConfigError::subject) names the flag or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    /// The `--command-config` file cannot be read.
    #[error("{cause}")]
    CommandConfig {
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        cause: io::Error,
    },
    /// A file a flag names cannot be read.
    #[error("cannot read {}: {cause}", path.display())]
    UnreadableFile {
        /// The flag.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        cause: io::Error,
    },
    /// A password file or variable is empty.
    #[error("{origin} holds no password")]
    EmptyPassword {
        /// The flag the password is for.
        flag: &'static str,
        /// Where it was read: a file or `$VARIABLE`.
        origin: String,
    },
    /// A password variable is not valid UTF-8.
    #[error("{origin} is not valid UTF-8")]
    PasswordNotUtf8 {
        /// The flag the password is for.
        flag: &'static str,
        /// The `$VARIABLE`.
        origin: String,
    },
    /// A SASL flag with a security protocol that does not authenticate with SASL.
    #[error("needs --security-protocol SASL_PLAINTEXT or SASL_SSL (the protocol is {protocol})")]
    NeedsSaslProtocol {
        /// The flag.
        flag: &'static str,
        /// The protocol in effect.
        protocol: &'static str,
    },
    /// A TLS flag with a security protocol that does not use TLS.
    #[error("needs --security-protocol SSL or SASL_SSL (the protocol is {protocol})")]
    NeedsTlsProtocol {
        /// The flag.
        flag: &'static str,
        /// The protocol in effect.
        protocol: &'static str,
    },
    /// SASL credentials or a SASL protocol, but no mechanism from a flag or the file.
    #[error(
        "needs a SASL mechanism: --sasl-mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 \
         (or sasl.mechanism in --command-config)"
    )]
    NeedsSaslMechanism {
        /// The flag.
        flag: &'static str,
    },
    /// A username with a mechanism that does not log in with a password.
    #[error("is for PLAIN and SCRAM; {mechanism} does not log in with a username and password")]
    NotAPasswordMechanism {
        /// The mechanism in effect.
        mechanism: &'static str,
    },
    /// A PLAIN or SCRAM mechanism without any login.
    #[error(
        "{mechanism} needs --sasl-username with ${SASL_PASSWORD_ENV} or --sasl-password-file \
         (or a sasl.jaas.config login in --command-config)"
    )]
    NeedsSaslLogin {
        /// The flag that asked for the mechanism or protocol.
        flag: &'static str,
        /// The mechanism in effect.
        mechanism: &'static str,
    },
    /// `--sasl-username` without a password.
    #[error("needs a password: set ${SASL_PASSWORD_ENV} or give --sasl-password-file")]
    MissingSaslPassword,
    /// `--sasl-password-file` without `--sasl-username`.
    #[error("needs --sasl-username")]
    PasswordWithoutUsername,
    /// `--sasl-mechanism OAUTHBEARER` without a token source in the `--command-config` file.
    #[error(
        "OAUTHBEARER needs its token source in --command-config: \
         sasl.oauthbearer.token.endpoint.url (https:// with clientId and clientSecret in an \
         OAuthBearerLoginModule sasl.jaas.config line, or file:///path/to/token)"
    )]
    OAuthBearerUnsupported,
    /// A Kerberos setting in a build without the `gssapi` feature.
    #[error(
        "Kerberos needs a klamm built with the `gssapi` feature \
         (cargo install klamm-cli --features gssapi)"
    )]
    NeedsGssapiFeature {
        /// The flag.
        flag: &'static str,
    },
    /// A `--sasl-kerberos-*` flag while the mechanism is not GSSAPI.
    #[error(
        "needs SASL/GSSAPI: --sasl-mechanism GSSAPI with --security-protocol SASL_PLAINTEXT or \
         SASL_SSL, or security.protocol=SASL_PLAINTEXT or SASL_SSL and sasl.mechanism=GSSAPI in \
         the --command-config file"
    )]
    KerberosWithoutGssapi {
        /// The flag.
        flag: &'static str,
    },
    /// A client key or its password without a client certificate.
    #[error(
        "needs a client certificate: --ssl-certfile (or a PEM ssl.keystore.location in \
         --command-config)"
    )]
    NeedsClientCertificate {
        /// The flag.
        flag: &'static str,
    },
    /// klamm-admin refused the layered properties.
    #[error("{}", explain(cause))]
    Admin {
        /// The flag that set the refused key, or the configuration file.
        what: String,
        /// The refusal.
        cause: AdminError,
    },
}

impl ClientConfigError {
    /// What the error is about, as the first part of its one-line report: a flag or a file.
    pub fn subject(&self) -> String {
        use ClientConfigError::*;
        match self {
            CommandConfig { path, .. } => format!("reading {}", path.display()),
            Admin { what, .. } => what.clone(),
            UnreadableFile { flag, .. }
            | EmptyPassword { flag, .. }
            | PasswordNotUtf8 { flag, .. }
            | NeedsSaslProtocol { flag, .. }
            | NeedsTlsProtocol { flag, .. }
            | NeedsSaslMechanism { flag }
            | NeedsSaslLogin { flag, .. }
            | NeedsGssapiFeature { flag }
            | KerberosWithoutGssapi { flag }
            | NeedsClientCertificate { flag } => (*flag).to_owned(),
            NotAPasswordMechanism { .. } | MissingSaslPassword => "--sasl-username".to_owned(),
            PasswordWithoutUsername => "--sasl-password-file".to_owned(),
            OAuthBearerUnsupported => "--sasl-mechanism".to_owned(),
        }
    }
}

impl From<ClientConfigError> for Failure {
    fn from(error: ClientConfigError) -> Failure {
        Failure::new(error.subject(), error.to_string())
    }
}
