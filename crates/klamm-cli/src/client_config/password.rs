//! [`Password`]: a password from a file or the environment, never from a flag value, and never
//! printed.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;

use super::ClientConfigError;

/// A password read from a file or the environment; `Debug` prints `***` and there is no
/// `Display`, so it cannot end up in a message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The password itself, for the one place it is written into the client settings.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The first line of `path`, without its line ending.
pub fn password_from_file(flag: &'static str, path: &Path) -> Result<Password, ClientConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ClientConfigError::UnreadableFile {
            flag,
            path: path.to_owned(),
            cause: source,
        })?;
    match text.lines().next() {
        Some(line) if !line.is_empty() => Ok(Password(line.to_owned())),
        _ => Err(ClientConfigError::EmptyPassword {
            flag,
            origin: format!("the first line of {}", path.display()),
        }),
    }
}

/// The password in `$variable`; an unset or empty variable is no password.
pub fn password_from_env(
    flag: &'static str,
    variable: &str,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Option<Password>, ClientConfigError> {
    match env(variable).map(OsString::into_string) {
        None => Ok(None),
        Some(Ok(value)) if value.is_empty() => Ok(None),
        Some(Ok(value)) => Ok(Some(Password(value))),
        Some(Err(_)) => Err(ClientConfigError::PasswordNotUtf8 {
            flag,
            origin: format!("${variable}"),
        }),
    }
}
