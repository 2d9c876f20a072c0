//! The one shape of every operation's options: its own type, last argument of the call,
//! `Default`, a builder method per setting, `#[non_exhaustive]`, and a `timeout` in each.
//!
//! [`options!`] declares such a type:
//!
//! ```text
//! options! {
//!     /// Options of [`Admin::create_topics`].
//!     pub struct CreateTopicsOptions {
//!         /// Only check that the topics could be created.
//!         validate_only: bool,
//!     }
//! }
//! let options = CreateTopicsOptions::default().validate_only(true).timeout(Duration::from_secs(5));
//! ```

/// Declares an options type: the listed settings (each with a builder method of its name, its
/// default from `= expr` or `Default::default()`), plus `timeout`.
macro_rules! options {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                $field:ident : $ty:ty $(= $default:expr)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            /// The deadline of the whole operation, retries included; `default_api_timeout`
            /// when `None`.
            pub timeout: Option<std::time::Duration>,
            $(
                $(#[$field_meta])*
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    timeout: None,
                    $( $field: options!(@default $($default)?), )*
                }
            }
        }

        impl $name {
            /// Sets the deadline of the whole operation, retries included (`None` for
            /// `default_api_timeout`).
            pub fn timeout(mut self, timeout: impl Into<Option<std::time::Duration>>) -> Self {
                self.timeout = timeout.into();
                self
            }

            $(
                $(#[$field_meta])*
                pub fn $field(mut self, value: impl Into<$ty>) -> Self {
                    self.$field = value.into();
                    self
                }
            )*
        }
    };
    (@default) => { Default::default() };
    (@default $default:expr) => { $default };
}

pub(crate) use options;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    options! {
        /// Test options.
        pub struct Sample {
            /// A flag.
            flag: bool,
            /// A number with its own default.
            count: u32 = 3,
        }
    }

    #[test]
    fn defaults_and_builder_methods() {
        let default = Sample::default();
        assert_eq!(
            (default.timeout, default.flag, default.count),
            (None, false, 3)
        );
        let built = Sample::default()
            .flag(true)
            .count(7u32)
            .timeout(Duration::from_secs(2));
        assert_eq!(built.timeout, Some(Duration::from_secs(2)));
        assert!(built.flag);
        assert_eq!(built.count, 7);
    }
}
