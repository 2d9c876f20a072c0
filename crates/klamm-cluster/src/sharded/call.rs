//! [`Call`]: one request to one target, the one-item case of a sharded request.

use std::marker::PhantomData;
use std::time::Duration;

use klamm_protocol::{Request, VersionRange};

use super::{Outcome, Resend, ShardedRequest};
use crate::{ResponseError, Target};

/// The classifier of a [`Call`] that has none: every response is accepted as it is.
pub type AcceptAny<R> = fn(&<R as Request>::Response) -> Result<(), ResponseError>;

/// One request to one [`Target`], for [`Cluster::call`](crate::Cluster::call).
///
/// `build` makes the request for the version negotiated with the chosen broker (it runs again
/// for each attempt, possibly for another broker and version). The optional classifier reads
/// the error that decides the whole response: a retriable code invalidates what it implies
/// (metadata, coordinator) and retries; another code fails the call as
/// [`ClusterError::Kafka`](crate::ClusterError::Kafka).
///
/// ```no_run
/// use klamm_cluster::{Call, Cluster, ResponseError, Target};
/// use klamm_protocol::messages::DescribeClusterRequest;
///
/// # async fn demo(cluster: Cluster) -> Result<(), klamm_cluster::ClusterError> {
/// let described = cluster
///     .call(
///         Call::new(Target::Any, |_version| DescribeClusterRequest::default())
///             .classify(|response| ResponseError::check(response.error_code)),
///     )
///     .await?;
/// println!("controller {}", described.controller_id);
/// # Ok(()) }
/// ```
pub struct Call<R, B, C = AcceptAny<R>> {
    pub(crate) target: Target,
    build: B,
    classify: C,
    pub(crate) timeout: Option<Duration>,
    resend: Resend,
    versions: Option<VersionRange>,
    _request: PhantomData<fn() -> R>,
}

impl<R, B> Call<R, B>
where
    R: Request,
    B: Fn(i16) -> R,
{
    /// A call of `build`'s request to `target` that accepts any response.
    pub fn new(target: Target, build: B) -> Self {
        Call {
            target,
            build,
            classify: |_| Ok(()),
            timeout: None,
            resend: Resend::Allowed,
            versions: None,
            _request: PhantomData,
        }
    }
}

impl<R, B, C> Call<R, B, C>
where
    R: Request,
    B: Fn(i16) -> R,
    C: Fn(&R::Response) -> Result<(), ResponseError>,
{
    /// Reads the error that decides the whole response.
    pub fn classify<D>(self, classify: D) -> Call<R, B, D>
    where
        D: Fn(&R::Response) -> Result<(), ResponseError>,
    {
        Call {
            target: self.target,
            build: self.build,
            classify,
            timeout: self.timeout,
            resend: self.resend,
            versions: self.versions,
            _request: PhantomData,
        }
    }

    /// The deadline of the whole call, retries included (else `default_api_timeout`).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// Never sends the request twice: a failure after it may have reached the broker is
    /// returned at once; finding the broker and connecting are still retried.
    pub fn no_resend(mut self) -> Self {
        self.resend = Resend::Never;
        self
    }

    /// Only these versions can do what the call wants; a broker with none of them fails it
    /// with [`ClusterError::UnsupportedByBroker`](crate::ClusterError::UnsupportedByBroker).
    pub fn versions(mut self, versions: VersionRange) -> Self {
        self.versions = Some(versions);
        self
    }
}

impl<R, B, C> ShardedRequest for Call<R, B, C>
where
    R: Request + Send,
    R::Response: Send,
    B: Fn(i16) -> R + Send + Sync,
    C: Fn(&R::Response) -> Result<(), ResponseError> + Send + Sync,
{
    type Item = ();
    type Request = R;
    type Output = R::Response;

    fn route(&self, _: &()) -> Target {
        self.target.clone()
    }

    fn build(&self, _broker_id: i32, version: i16, _: &[()]) -> R {
        (self.build)(version)
    }

    fn classify(&self, response: R::Response, _: i16, _: &[()]) -> Vec<((), Outcome<R::Response>)> {
        let outcome = match (self.classify)(&response) {
            Ok(()) => Outcome::Done(response),
            Err(error) if error.error_code.is_retriable() => Outcome::Retry(error),
            Err(error) => Outcome::Failed(error),
        };
        vec![((), outcome)]
    }

    fn versions(&self) -> VersionRange {
        self.versions.unwrap_or(R::API_KEY.versions())
    }

    fn resend(&self) -> Resend {
        self.resend
    }

    fn operation(&self) -> String {
        format!("{} to {}", R::API_KEY, self.target)
    }

    fn describe(&self, _: &()) -> String {
        self.target.to_string()
    }
}
