#!/usr/bin/env python3
"""Independent oracle for Klamm's tests: one kafka-python 3.x operation against a broker.

Prints exactly one JSON object on stdout:
  {"ok": true, ...result...}
  {"ok": false, "error": "<exception class>", "message": "...", "log": ["<kafka-python warnings>"]}
and exits 0 either way, so the caller asserts on the outcome; exit 2 means bad usage.
With --mechanism OAUTHBEARER, tokens come from --token-endpoint (client id --user, secret
--password, HTTP Basic auth).

Actions:
  list-topics       topics visible to the principal
  create-topic      create --topic with --partitions/--replication-factor
  describe-cluster  live and fenced broker ids, controller id and cluster id
  produce-consume   produce --count records to --topic, read them back in consumer group --group
  transaction       commit one transactional record to --topic, read it back read_committed
  allow-create      grant --principal CREATE on topics prefixed --topic (run as a super user)
"""

import argparse
import json
import logging
import sys
import uuid


class Captured(logging.Handler):
    """Keeps kafka-python's warnings so a failure says why (TLS, authentication, ...)."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.lines = []

    def emit(self, record):
        try:
            self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")
        except Exception:  # noqa: BLE001 - a log line must never break the oracle
            pass


class EndpointTokenProvider:
    """OAUTHBEARER tokens from a KIP-768 client-credentials endpoint (HTTP Basic auth)."""

    def __init__(self, url, client_id, client_secret):
        self.url, self.client_id, self.client_secret = url, client_id, client_secret

    def token(self):
        import base64
        import urllib.parse
        import urllib.request

        credentials = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        request = urllib.request.Request(
            self.url,
            data=urllib.parse.urlencode({"grant_type": "client_credentials"}).encode(),
            headers={"Authorization": f"Basic {credentials}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["access_token"]

    def extensions(self):
        return {}


def token_provider(args):
    from kafka.net.sasl.oauth import AbstractTokenProvider

    class Provider(EndpointTokenProvider, AbstractTokenProvider):
        pass

    return Provider(args.token_endpoint, args.user, args.password)


def client_config(args):
    config = {
        "bootstrap_servers": args.bootstrap,
        "client_id": "klamm-oracle",
        "security_protocol": args.security_protocol,
        "request_timeout_ms": args.timeout_ms,
        "bootstrap_timeout_ms": args.timeout_ms,
    }
    if args.mechanism == "OAUTHBEARER":
        config["sasl_mechanism"] = args.mechanism
        config["sasl_oauth_token_provider"] = token_provider(args)
    elif args.mechanism:
        config["sasl_mechanism"] = args.mechanism
        config["sasl_plain_username"] = args.user
        config["sasl_plain_password"] = args.password
    if args.cafile:
        config["ssl_cafile"] = args.cafile
    if args.certfile:
        config["ssl_certfile"] = args.certfile
        config["ssl_keyfile"] = args.keyfile
    return config


def admin(args):
    from kafka import KafkaAdminClient

    return KafkaAdminClient(**client_config(args))


def list_topics(args):
    client = admin(args)
    try:
        return {"topics": sorted(client.list_topics())}
    finally:
        client.close()


def create_topic(args):
    from kafka.admin import NewTopic

    client = admin(args)
    try:
        client.create_topics(
            [NewTopic(args.topic, args.partitions, args.replication_factor)],
            timeout_ms=args.timeout_ms,
        )
        return {"topic": args.topic}
    finally:
        client.close()


def describe_cluster(args):
    client = admin(args)
    try:
        cluster = client.describe_cluster()
        # kafka-python asks for fenced brokers too (DescribeCluster v2); report them apart.
        brokers = cluster["brokers"]
        return {
            "brokers": sorted(b["broker_id"] for b in brokers if not b.get("is_fenced")),
            "fenced": sorted(b["broker_id"] for b in brokers if b.get("is_fenced")),
            "controller": cluster["controller_id"],
            "cluster_id": cluster["cluster_id"],
        }
    finally:
        client.close()


def produce_consume(args):
    from kafka import KafkaConsumer, KafkaProducer

    producer = KafkaProducer(acks="all", **client_config(args))
    values = [f"klamm-{i}".encode() for i in range(args.count)]
    # Round robin over the partitions, so that every partition gets records (the default
    # partitioner picks at random and may leave one empty).
    partitions = sorted(producer.partitions_for(args.topic) or [0])
    for index, value in enumerate(values):
        producer.send(args.topic, value, partition=partitions[index % len(partitions)])
    producer.flush(timeout=args.timeout_ms / 1000)
    producer.close()

    consumer = KafkaConsumer(
        args.topic,
        group_id=args.group or f"klamm-oracle-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=args.timeout_ms,
        **client_config(args),
    )
    seen = []
    try:
        for record in consumer:
            seen.append(record.value)
            if len(seen) == len(values):
                break
        consumer.commit()
    finally:
        consumer.close()
    return {"produced": len(values), "consumed": len(seen), "in_order": seen == values}


def transaction(args):
    from kafka import KafkaConsumer, KafkaProducer

    producer = KafkaProducer(transactional_id=f"klamm-oracle-{uuid.uuid4()}", **client_config(args))
    producer.init_transactions()
    producer.begin_transaction()
    producer.send(args.topic, b"committed")
    producer.commit_transaction()
    producer.close()

    consumer = KafkaConsumer(
        args.topic,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        consumer_timeout_ms=args.timeout_ms,
        **client_config(args),
    )
    try:
        values = [record.value.decode() for record in consumer]
    finally:
        consumer.close()
    return {"values": values}


def allow_create(args):
    from kafka.admin import (
        ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, ResourceType)

    client = admin(args)
    try:
        pattern = ResourcePattern(ResourceType.TOPIC, args.topic, ACLResourcePatternType.PREFIXED)
        acl = ACL(args.principal, "*", ACLOperation.CREATE, ACLPermissionType.ALLOW, pattern)
        result = client.create_acls([acl])
        failed = [(str(a), str(e)) for a, e in result.get("failed", [])]
        if failed:
            raise RuntimeError(f"create_acls failed: {failed}")
        return {"granted": len(result.get("succeeded", []))}
    finally:
        client.close()


ACTIONS = {
    "allow-create": allow_create,
    "list-topics": list_topics,
    "create-topic": create_topic,
    "describe-cluster": describe_cluster,
    "produce-consume": produce_consume,
    "transaction": transaction,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=sorted(ACTIONS))
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--security-protocol", default="PLAINTEXT")
    parser.add_argument("--mechanism", help="SASL mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER")
    parser.add_argument("--token-endpoint", help="OAUTHBEARER: client-credentials token URL; --user/--password are the client id/secret")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--cafile")
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    parser.add_argument("--topic")
    parser.add_argument("--group")
    parser.add_argument("--principal", help="for allow-create, e.g. User:klamm-user")
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--replication-factor", type=int, default=1)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--timeout-ms", type=int, default=15000)
    args = parser.parse_args()

    captured = Captured()
    logging.getLogger("kafka").addHandler(captured)
    logging.getLogger("kafka").setLevel(logging.WARNING)
    try:
        result = {"ok": True, **ACTIONS[args.action](args)}
    except Exception as error:  # noqa: BLE001 - the oracle reports every failure as data
        result = {"ok": False, "error": type(error).__name__, "message": str(error)}
    result["log"] = captured.lines
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
