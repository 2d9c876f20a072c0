//! The `quorum` profile's dynamic KRaft quorum: voters added and removed with Kafka's own
//! MetadataQuorumCommand, nodes started on demand, a broker and a controller unregistered.
//! One test function, because each step changes the quorum the next one sees.

mod common;

use std::time::Duration;

use common::{kafka_tool, try_kafka_tool, wait_for};
use klamm_test_harness::{shared, ClusterEnv, NodeRole, Profile};

const QUORUM_TOOL: &str = "org.apache.kafka.tools.MetadataQuorumCommand";
const CLUSTER_TOOL: &str = "org.apache.kafka.tools.ClusterTool";

/// `(node id, status)` rows of `describe --replication`, e.g. `(3, "Observer")`.
fn replication(env: &ClusterEnv) -> Vec<(u32, String, u64)> {
    let text = kafka_tool(
        env,
        QUORUM_TOOL,
        &[
            "--bootstrap-controller",
            &env.bootstrap_controller,
            "describe",
            "--replication",
        ],
    );
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            Some((
                cells.first()?.parse().ok()?,
                cells.last()?.to_string(),
                cells.get(3)?.parse().ok()?,
            ))
        })
        .collect()
}

fn status_of(env: &ClusterEnv, node_id: u32) -> Option<String> {
    replication(env)
        .into_iter()
        .find(|(id, ..)| *id == node_id)
        .map(|(_, status, _)| status)
}

/// Waits until `node_id` is a caught-up observer, then adds it as a voter.
fn add_controller(env: &ClusterEnv, node_id: u32, config: &str) {
    wait_for("a caught-up observer", Duration::from_secs(60), || {
        replication(env)
            .iter()
            .any(|(id, status, lag)| *id == node_id && status == "Observer" && *lag == 0)
            .then_some(())
    });
    let added = kafka_tool(
        env,
        QUORUM_TOOL,
        &[
            "--bootstrap-controller",
            &env.bootstrap_controller,
            "--command-config",
            config,
            "add-controller",
        ],
    );
    assert!(
        added.contains(&format!("Added controller {node_id}")),
        "{added}"
    );
    wait_for("the new voter", Duration::from_secs(30), || {
        matches!(
            status_of(env, node_id).as_deref(),
            Some("Follower" | "Leader")
        )
        .then_some(())
    });
}

fn remove_controller(env: &ClusterEnv, node_id: u32, directory_id: &str) {
    let removed = kafka_tool(
        env,
        QUORUM_TOOL,
        &[
            "--bootstrap-controller",
            &env.bootstrap_controller,
            "remove-controller",
            "--controller-id",
            &node_id.to_string(),
            "--controller-directory-id",
            directory_id,
        ],
    );
    // 3.9 prints two spaces after "Removed".
    let removed = removed.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        removed.contains(&format!("Removed KRaft controller {node_id}")),
        "{removed}"
    );
}

#[test]
fn voters_are_added_and_removed_and_nodes_unregistered() {
    let env = shared(Profile::Quorum);
    assert!(env.dynamic_quorum);
    assert_eq!(env.broker_ids, [1]);
    let ids: Vec<u32> = env.controllers.iter().map(|c| c.node_id).collect();
    assert_eq!(ids, [2, 3]);
    // Controller 2 was formatted --standalone: the only voter. Controller 3 observes.
    wait_for("controller 2 as leader", Duration::from_secs(30), || {
        (status_of(env, 2).as_deref() == Some("Leader")).then_some(())
    });
    assert_eq!(status_of(env, 3).as_deref(), Some("Observer"));

    let config3 = env.state_dir.join("node-3/server.properties");
    add_controller(env, 3, config3.to_str().unwrap());

    // A controller started on demand joins as an observer and can be added too.
    let extra = env.start_extra_node(NodeRole::Controller).unwrap();
    assert!(extra.node_id > 3, "{extra:?}");
    let extra_id = extra.node_id.to_string();
    add_controller(env, extra.node_id, extra.config_file.to_str().unwrap());
    let status = kafka_tool(
        env,
        QUORUM_TOOL,
        &[
            "--bootstrap-controller",
            &env.bootstrap_controller,
            "describe",
            "--status",
        ],
    );
    for id in [2, 3, extra.node_id] {
        assert!(
            status.contains(&format!("{{\"id\": {id}, ")),
            "voter {id} missing: {status}"
        );
    }

    // Once removed from the voters and stopped, a controller can be unregistered, on 4.4
    // (KIP-1312, metadata.version 4.4-IV2). (4.4.0 does not refuse to unregister a voter.)
    let unregister_controller = || {
        try_kafka_tool(
            env,
            CLUSTER_TOOL,
            &[
                "unregister-controller",
                "--bootstrap-server",
                &env.bootstrap_plaintext,
                "--id",
                &extra_id,
            ],
        )
    };
    let supports_unregister_controller = env.version.is_4x();
    remove_controller(env, extra.node_id, &extra.directory_id);
    env.stop_broker(extra.node_id).unwrap();
    if supports_unregister_controller {
        let done = unregister_controller().unwrap();
        assert!(
            done.contains(&format!("Controller {extra_id} is no longer registered")),
            "{done}"
        );
        let again = unregister_controller().unwrap_or_else(|error| error);
        assert!(
            !again.contains("is no longer registered"),
            "unregistered twice: {again}"
        );
    }

    // A broker started on demand, stopped, then unregistered (UnregisterBroker).
    let broker = env.start_extra_node(NodeRole::Broker).unwrap();
    env.stop_broker(broker.node_id).unwrap();
    let unregister_broker = || {
        try_kafka_tool(
            env,
            CLUSTER_TOOL,
            &[
                "unregister",
                "--bootstrap-server",
                &env.bootstrap_plaintext,
                "--id",
                &broker.node_id.to_string(),
            ],
        )
    };
    unregister_broker().unwrap();

    remove_controller(env, 3, &env.controllers[1].directory_id);
    wait_for(
        "controller 3 as observer again",
        Duration::from_secs(30),
        || (status_of(env, 3).as_deref() == Some("Observer")).then_some(()),
    );
}
