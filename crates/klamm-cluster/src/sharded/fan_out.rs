//! [`FanOut`]: the same kind of request to each of several brokers (ListGroups on every
//! broker, DescribeLogDirs, a metadata barrier …), one result per broker.

use std::marker::PhantomData;

use klamm_protocol::Request;

use super::{Outcome, ShardedRequest};
use crate::{ResponseError, Target};

/// One request to each broker of the items it is run over (broker ids), for
/// [`Cluster::sharded`](crate::Cluster::sharded): each broker's response, or its error. One
/// slow or dead broker costs only its own result.
///
/// ```no_run
/// use klamm_cluster::{Cluster, FanOut, ResponseError};
/// use klamm_protocol::messages::ListGroupsRequest;
///
/// # async fn demo(cluster: Cluster) -> Result<(), klamm_cluster::ClusterError> {
/// let ids = cluster.metadata().await?.broker_ids();
/// let list = FanOut::new(|_broker, _version| ListGroupsRequest::default())
///     .classify(|response| ResponseError::check(response.error_code));
/// for (broker, answer) in cluster.sharded(&list, ids, None).await {
///     match answer.result {
///         Ok(response) => println!("broker {broker}: {} groups", response.groups.len()),
///         Err(error) => println!("broker {broker}: {error}"),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct FanOut<R, B, C = super::call::AcceptAny<R>> {
    build: B,
    classify: C,
    _request: PhantomData<fn() -> R>,
}

impl<R, B> FanOut<R, B>
where
    R: Request,
    B: Fn(i32, i16) -> R,
{
    /// `build` makes the request for a broker id and the version negotiated with it; every
    /// response is accepted as it is.
    pub fn new(build: B) -> Self {
        FanOut {
            build,
            classify: |_| Ok(()),
            _request: PhantomData,
        }
    }
}

impl<R, B, C> FanOut<R, B, C>
where
    R: Request,
    B: Fn(i32, i16) -> R,
{
    /// Reads the error that decides a broker's whole response (a retriable code retries that
    /// broker).
    pub fn classify<D>(self, classify: D) -> FanOut<R, B, D>
    where
        D: Fn(&R::Response) -> Result<(), ResponseError>,
    {
        FanOut {
            build: self.build,
            classify,
            _request: PhantomData,
        }
    }
}

impl<R, B, C> ShardedRequest for FanOut<R, B, C>
where
    R: Request + Send,
    R::Response: Send,
    B: Fn(i32, i16) -> R + Send + Sync,
    C: Fn(&R::Response) -> Result<(), ResponseError> + Send + Sync,
{
    type Item = i32;
    type Request = R;
    type Output = R::Response;

    fn route(&self, broker_id: &i32) -> Target {
        Target::Broker(*broker_id)
    }

    fn build(&self, broker_id: i32, version: i16, _: &[i32]) -> R {
        (self.build)(broker_id, version)
    }

    fn max_items(&self, _version: i16) -> usize {
        1
    }

    fn classify(
        &self,
        response: R::Response,
        _: i16,
        brokers: &[i32],
    ) -> Vec<(i32, Outcome<R::Response>)> {
        // One broker per request (`max_items`).
        let Some(&broker) = brokers.first() else {
            return Vec::new();
        };
        let outcome = match (self.classify)(&response) {
            Ok(()) => Outcome::Done(response),
            Err(error) if error.error_code.is_retriable() => Outcome::Retry(error),
            Err(error) => Outcome::Failed(error),
        };
        vec![(broker, outcome)]
    }

    fn describe(&self, broker_id: &i32) -> String {
        format!("broker {broker_id}")
    }
}
