//! `list_consumer_groups`: ListGroups to every broker at once (each lists the groups it
//! coordinates); a broker that fails costs only its own groups.

use klamm_cluster::{FanOut, ResponseError};
use klamm_protocol::messages::ListGroupsRequest;

use super::*;
use crate::Admin;

impl Admin {
    /// Lists consumer groups by asking every broker concurrently; a broker that fails costs
    /// only its own groups (see [`ConsumerGroupListing::errors`]).
    pub async fn list_consumer_groups(
        &self,
        options: ListConsumerGroupsOptions,
    ) -> Result<ConsumerGroupListing, AdminError> {
        let broker_ids = self.cluster.metadata().await?.broker_ids();
        let states: Vec<String> = options
            .states
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        let types: Vec<String> = options
            .types
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect();
        let list = FanOut::new(|_, version| {
            ListGroupsRequest::default()
                .with_states_filter(states.iter().map(|s| s.as_str().into()).collect())
                .with_types_filter(match version >= 5 {
                    true => types.iter().map(|t| t.as_str().into()).collect(),
                    false => Vec::new(),
                })
        })
        .classify(|response| ResponseError::check(response.error_code));
        let per_broker = self
            .cluster
            .sharded(&list, broker_ids, Some(self.timeout(options.timeout)))
            .await;
        let mut listing = ConsumerGroupListing {
            groups: Vec::new(),
            errors: BTreeMap::new(),
        };
        for (broker, answer) in per_broker {
            match answer.result {
                Ok(response) => {
                    for group in &response.groups {
                        let protocol_type = group.protocol_type.to_string();
                        if !(options.include_non_consumer
                            || protocol_type.is_empty()
                            || protocol_type == "consumer")
                        {
                            continue;
                        }
                        listing.groups.push(GroupListing {
                            group_id: group.group_id.to_string(),
                            protocol_type,
                            state: (!group.group_state.is_empty())
                                .then(|| GroupState::from(group.group_state.as_str())),
                            group_type: (!group.group_type.is_empty())
                                .then(|| GroupType::from(group.group_type.as_str())),
                            coordinator: broker,
                        });
                    }
                }
                Err(error) => {
                    listing.errors.insert(broker, error.into());
                }
            }
        }
        listing.groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        Ok(listing)
    }
}
