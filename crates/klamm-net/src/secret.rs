//! [`Secret`]: a password or token that never shows up in `Debug` output, logs or errors.

use std::fmt;

/// A secret string (password, key passphrase, OAuth token).
///
/// `Debug` prints `***`; there is deliberately no `Display`. Read it with
/// [`expose`](Secret::expose) only where it is put on the wire.
///
/// ```
/// use klamm_net::Secret;
///
/// let password = Secret::new("hunter2");
/// assert_eq!(format!("{password:?}"), "***");
/// assert_eq!(password.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_struct_holding_a_secret_hides_it() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Credentials {
            user: &'static str,
            password: Secret,
        }
        let text = format!(
            "{:?}",
            Credentials {
                user: "alice",
                password: Secret::new("s3cr3t")
            }
        );
        assert!(text.contains("alice") && text.contains("***"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
    }
}
