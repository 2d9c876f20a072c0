//! `create_partitions`: CreatePartitions to the controller as a sharded request, with the
//! read-back of topics an unanswered attempt may already have grown.

use klamm_cluster::{Outcome, ShardedRequest, Target};
use klamm_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use klamm_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use klamm_protocol::ErrorCode;

use super::*;
use crate::client::timeout_ms;
use crate::results::settle;
use crate::{Admin, AdminError, Results};

/// The planner and classifier of `create_partitions`: every topic in one request to the
/// controller.
struct CreatePartitionsShards<'a> {
    topics: BTreeMap<TopicRef, &'a NewPartitions>,
    options: &'a CreatePartitionsOptions,
    timeout_ms: i32,
}

impl ShardedRequest for CreatePartitionsShards<'_> {
    type Item = TopicRef;
    type Request = CreatePartitionsRequest;
    type Output = WriteOutcome;

    fn route(&self, _: &TopicRef) -> Target {
        Target::Controller
    }

    fn build(&self, _broker: i32, _version: i16, topics: &[TopicRef]) -> CreatePartitionsRequest {
        let entries = topics.iter().filter_map(|key| {
            let new = self.topics.get(key)?;
            let assignments = (!new.assignments.is_empty()).then(|| {
                new.assignments
                    .iter()
                    .map(|brokers| {
                        CreatePartitionsAssignment::default()
                            .with_broker_ids(brokers.as_slice().into())
                    })
                    .collect()
            });
            let topic = CreatePartitionsTopic::default()
                .with_name(key.name()?.into())
                .with_count(new.total_count)
                .with_assignments(assignments);
            Some(topic)
        });
        CreatePartitionsRequest::default()
            .with_topics(entries.collect())
            .with_timeout_ms(self.timeout_ms)
            .with_validate_only(self.options.validate_only)
    }

    fn classify(
        &self,
        response: CreatePartitionsResponse,
        _version: i16,
        _topics: &[TopicRef],
    ) -> Vec<(TopicRef, Outcome<WriteOutcome>)> {
        let done = match self.options.validate_only {
            true => WriteOutcome::Validated,
            false => WriteOutcome::Applied,
        };
        response
            .results
            .iter()
            .map(|answer| {
                let name = answer.name.to_string();
                let outcome = topic_outcome(
                    answer.error_code,
                    answer.error_message.as_ref(),
                    topic_resource(&name),
                    || done,
                );
                (TopicRef::Name(name), outcome)
            })
            .collect()
    }

    fn operation(&self) -> String {
        "CreatePartitions to the controller".into()
    }

    fn describe(&self, topic: &TopicRef) -> String {
        topic.to_string()
    }
}

impl Admin {
    /// Grows topics to a new total partition count, one result per topic.
    ///
    /// ```no_run
    /// # use klamm_admin::{Admin, CreatePartitionsOptions, NewPartitions};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let results = admin
    ///     .create_partitions([("orders", NewPartitions::increase_to(12))], CreatePartitionsOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// A topic whose request got no answer and whose retry is refused with
    /// `INVALID_PARTITIONS` (it already has that many) is checked in fresh metadata: grown to
    /// the count asked for, it is [`WriteOutcome::ConfirmedAfterRetry`].
    pub async fn create_partitions(
        &self,
        topics: impl IntoIterator<Item = (impl Into<String>, NewPartitions)>,
        options: CreatePartitionsOptions,
    ) -> Result<Results<TopicRef, WriteOutcome>, AdminError> {
        let timeout = self.timeout(options.timeout);
        let topics: BTreeMap<TopicRef, NewPartitions> = topics
            .into_iter()
            .map(|(name, new)| (TopicRef::Name(name.into()), new))
            .collect();
        let shards = CreatePartitionsShards {
            topics: topics.iter().map(|(key, new)| (key.clone(), new)).collect(),
            options: &options,
            timeout_ms: timeout_ms(timeout),
        };
        let answers = self
            .cluster
            .sharded(&shards, topics.keys().cloned(), Some(timeout))
            .await;
        let own_trace = |error: &klamm_cluster::ClusterError| {
            error.error_code() == Some(ErrorCode::InvalidPartitions)
        };
        let mut settled = settle(answers, own_trace);
        if settled.doubtful.is_empty() || options.validate_only {
            for (key, error) in settled.doubtful {
                settled.results.insert(key, Err(error));
            }
            return Ok(settled.results);
        }
        let names: Vec<String> = settled
            .doubtful
            .iter()
            .filter_map(|(key, _)| key.name().map(str::to_owned))
            .collect();
        let metadata = self.cluster.metadata_for_topics(&names).await.ok();
        for (key, error) in settled.doubtful {
            let grown = metadata.as_ref().zip(key.name()).is_some_and(|(m, name)| {
                let wanted = topics[&key].total_count;
                m.topic(name)
                    .is_some_and(|t| t.partitions.len() as i32 == wanted)
            });
            let result = match grown {
                true => Ok(WriteOutcome::ConfirmedAfterRetry),
                false => Err(error),
            };
            settled.results.insert(key, result);
        }
        Ok(settled.results)
    }
}
