//! [`ResponseError`]: what a classifier passed to [`Cluster::call`](crate::Cluster::call) says
//! about a response. Kafka reports most failures inside the response body, not as transport
//! errors, and only the caller knows which field of which response holds the error that
//! decides whether the whole request must be retried.

use klamm_protocol::ErrorCode;

/// An error a response carries, as a classifier reports it.
///
/// A retriable code makes [`Cluster::call`](crate::Cluster::call) invalidate what it implies
/// (`NOT_CONTROLLER` refreshes metadata, `NOT_COORDINATOR` forgets the coordinator, …) and try
/// again; any other code comes back as [`ClusterError::Kafka`](crate::ClusterError::Kafka).
///
/// ```
/// use klamm_cluster::ResponseError;
/// use klamm_protocol::ErrorCode;
///
/// assert!(ResponseError::check(0).is_ok());
/// let error = ResponseError::check(41).unwrap_err().with_resource("topic `t`");
/// assert_eq!(error.error_code, ErrorCode::NotController);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseError {
    /// The error code.
    pub error_code: ErrorCode,
    /// The broker's message, if it sent one.
    pub message: Option<String>,
    /// The resource concerned (e.g. "topic `orders`"), for the error message.
    pub resource: Option<String>,
}

impl ResponseError {
    /// An error with this code.
    pub fn new(error_code: ErrorCode) -> Self {
        ResponseError {
            error_code,
            message: None,
            resource: None,
        }
    }

    /// `Ok` for `NONE` (0), the error otherwise.
    pub fn check(code: i16) -> Result<(), ResponseError> {
        let error_code = ErrorCode::from_code(code);
        if error_code.is_error() {
            Err(Self::new(error_code))
        } else {
            Ok(())
        }
    }

    /// Adds the broker's message.
    pub fn with_message(mut self, message: Option<impl ToString>) -> Self {
        self.message = message.map(|m| m.to_string());
        self
    }

    /// Names the resource concerned.
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }
}

/// A classifier that accepts every response as it is (errors inside are the caller's to read).
pub fn accept_any<T>(_: &T) -> Result<(), ResponseError> {
    Ok(())
}
