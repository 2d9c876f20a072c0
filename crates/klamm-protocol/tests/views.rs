//! The zero-copy views (the `view` feature): they accept exactly the frames the owned decoder
//! accepts, with its errors, and read each field in place.
#![cfg(feature = "view")]

use bytes::Bytes;
use klamm_protocol::messages::metadata_response::{
    MetadataResponsePartition, MetadataResponseTopic, MetadataResponseView,
};
use klamm_protocol::messages::MetadataResponse;
use klamm_protocol::view::View;
use klamm_protocol::Message;

fn metadata_with_one_partition() -> MetadataResponse {
    MetadataResponse::default()
        .with_cluster_id(Some("cluster".into()))
        .with_controller_id(2)
        .with_topics(vec![MetadataResponseTopic::default()
            .with_name(Some("orders".into()))
            .with_partitions(vec![MetadataResponsePartition::default()
                .with_partition_index(4)
                .with_leader_id(1)
                .with_leader_epoch(9)
                .with_replica_nodes(vec![1, 2, 3].into())
                .with_isr_nodes(vec![1, 2].into())])])
}

#[test]
fn views_refuse_every_truncation_with_the_decoders_error() {
    let frame = metadata_with_one_partition().to_bytes(12).unwrap();
    for len in 0..frame.len() {
        let short = frame.slice(..len);
        let owned = MetadataResponse::from_bytes(&short, 12).unwrap_err();
        let viewed = MetadataResponseView::parse(&short, 12).unwrap_err();
        assert_eq!(viewed, owned, "truncated to {len} bytes");
    }
    let mut long = frame.to_vec();
    long.push(0);
    let long = Bytes::from(long);
    assert_eq!(
        MetadataResponseView::parse(&long, 12).unwrap_err(),
        MetadataResponse::from_bytes(&long, 12).unwrap_err()
    );
}

#[test]
fn views_read_fields_in_place_and_defaults_where_the_version_lacks_them() {
    let response = metadata_with_one_partition();
    let frame = response.to_bytes(12).unwrap();
    let view = MetadataResponseView::parse(&frame, 12).unwrap();
    assert_eq!(view.cluster_id(), Some("cluster"));
    let topic = view.topics().iter().next().unwrap();
    let name = topic.name().unwrap();
    // The name is borrowed from the frame, not copied.
    assert!(frame.as_ptr_range().contains(&name.as_ptr()));
    let partition = topic.partitions().iter().next().unwrap();
    assert_eq!(
        partition.replica_nodes().iter().collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(partition.isr_nodes().len(), 2);
    assert_eq!(partition.leader_epoch(), 9);

    // Version 0 has no cluster id, controller or leader epoch: the spec's defaults stand in.
    let mut old = metadata_with_one_partition();
    old.cluster_id = None;
    old.controller_id = -1;
    old.topics[0].partitions[0].leader_epoch = -1;
    let frame = old.to_bytes(0).unwrap();
    let view = MetadataResponseView::parse(&frame, 0).unwrap();
    assert_eq!(view.cluster_id(), None);
    assert_eq!(view.controller_id(), -1);
    let partition = view
        .topics()
        .iter()
        .next()
        .unwrap()
        .partitions()
        .iter()
        .next()
        .unwrap();
    assert_eq!(partition.leader_epoch(), -1);
    assert_eq!(view.to_message(), old);
    assert!(format!("{view:?}").contains("\"orders\""));
}

#[test]
fn views_check_versions_like_the_decoder() {
    let frame = Bytes::from_static(&[0; 8]);
    assert_eq!(
        MetadataResponseView::parse(&frame, 99).unwrap_err(),
        MetadataResponse::from_bytes(&frame, 99).unwrap_err()
    );
}
