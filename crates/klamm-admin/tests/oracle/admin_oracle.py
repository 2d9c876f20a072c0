#!/usr/bin/env python3
"""kafka-python 3.x as an independent check of klamm-admin (a client sharing no code with it).

Prints one JSON object: {"ok": true, ...} or {"ok": false, "error": ..., "message": ...}.

Actions:
  create-acl        ALLOW --principal READ on topic --topic (literal)
  describe-acls     ACLs on topic --topic: [{"principal", "host", "operation", "permission"}]
  commit-offsets    commit --offsets "topic:partition=offset,..." for group --group (simple group)
  committed         committed offsets of --group for --offsets' partitions (offset values ignored)
"""

import argparse
import json
import sys


def parse_offsets(text):
    from kafka import TopicPartition

    out = {}
    for item in filter(None, (text or "").split(",")):
        tp, offset = item.split("=")
        topic, partition = tp.rsplit(":", 1)
        out[TopicPartition(topic, int(partition))] = int(offset)
    return out


def admin(args):
    from kafka import KafkaAdminClient

    return KafkaAdminClient(bootstrap_servers=args.bootstrap, client_id="klamm-admin-oracle")


def topic_pattern(args):
    from kafka.admin import ACLResourcePatternType, ResourcePattern, ResourceType

    return ResourcePattern(ResourceType.TOPIC, args.topic, ACLResourcePatternType.LITERAL)


def create_acl(args):
    from kafka.admin import ACL, ACLOperation, ACLPermissionType

    client = admin(args)
    try:
        acl = ACL(args.principal, "*", ACLOperation.READ, ACLPermissionType.ALLOW, topic_pattern(args))
        result = client.create_acls([acl])
        failed = result.get("failed", []) if isinstance(result, dict) else []
        return {"failed": [str(f) for f in failed]}
    finally:
        client.close()


def describe_acls(args):
    from kafka.admin import ACLFilter, ACLOperation, ACLPermissionType

    client = admin(args)
    try:
        result = client.describe_acls(
            ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY, topic_pattern(args))
        )
        acls = result[0] if isinstance(result, tuple) else result
        return {
            "acls": sorted(
                (
                    {
                        "principal": acl.principal,
                        "host": acl.host,
                        "operation": acl.operation.name,
                        "permission": acl.permission_type.name,
                    }
                    for acl in acls
                ),
                key=lambda a: (a["principal"], a["operation"]),
            )
        }
    finally:
        client.close()


def commit_offsets(args):
    from kafka import KafkaConsumer
    from kafka.structs import OffsetAndMetadata

    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=args.group, enable_auto_commit=False)
    try:
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in parse_offsets(args.offsets).items()})
        return {}
    finally:
        consumer.close(autocommit=False)


def committed(args):
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=args.group, enable_auto_commit=False)
    try:
        return {
            "offsets": {
                f"{tp.topic}:{tp.partition}": consumer.committed(tp) for tp in parse_offsets(args.offsets)
            }
        }
    finally:
        consumer.close(autocommit=False)


ACTIONS = {
    "create-acl": create_acl,
    "describe-acls": describe_acls,
    "commit-offsets": commit_offsets,
    "committed": committed,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=sorted(ACTIONS))
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic")
    parser.add_argument("--group")
    parser.add_argument("--principal")
    parser.add_argument("--offsets")
    args = parser.parse_args()
    try:
        result = {"ok": True, **ACTIONS[args.action](args)}
    except Exception as error:  # noqa: BLE001 - reported as data
        result = {"ok": False, "error": type(error).__name__, "message": str(error)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
