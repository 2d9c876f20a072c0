// A member of a share group (KIP-932, Kafka 4.x), for tests of share-group APIs
// (ListGroups, DescribeShareGroupOffsets, ShareGroupDescribe, DeleteShareGroupState, …).
//
// Usage: ShareConsumer <bootstrap> <group> <topic> [key=value ...]
// Every key=value is a share-consumer property. Before joining it sets the group's
// share.auto.offset.reset to earliest (the default, latest, would skip what the test produced
// beforehand), then polls with implicit acknowledgement. Once a poll returned records it prints
//   READY {"group":"...","topic":"...","records":N}
// and keeps polling (staying a member) until stdin closes; then it closes the consumer (leaving
// the group) and prints {"ok":true,"records":<total>}.

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;

public class ShareConsumer {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: ShareConsumer <bootstrap> <group> <topic> [key=value ...]");
            System.exit(2);
        }
        String group = args[1];
        String topic = args[2];
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }

        Properties adminProps = new Properties();
        for (String key : props.stringPropertyNames()) {
            if (AdminClientConfig.configNames().contains(key)) {
                adminProps.put(key, props.getProperty(key));
            }
        }
        try (Admin admin = Admin.create(adminProps)) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.GROUP, group);
            AlterConfigOp earliest = new AlterConfigOp(
                new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET);
            admin.incrementalAlterConfigs(Map.of(resource, List.of(earliest))).all().get();
        }

        AtomicBoolean stop = new AtomicBoolean(false);
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // Only the end of stdin matters.
                }
            } catch (Exception ignored) {
                // A broken pipe means the same as a closed one.
            }
            stop.set(true);
        });
        watcher.setDaemon(true);
        watcher.start();

        long total = 0;
        boolean ready = false;
        try (KafkaShareConsumer<String, String> consumer = new KafkaShareConsumer<>(props)) {
            consumer.subscribe(List.of(topic));
            while (!stop.get()) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                total += records.count();
                if (!records.isEmpty()) {
                    consumer.commitSync();
                }
                if (!ready && total > 0) {
                    ready = true;
                    System.out.println("READY {\"group\":\"" + group + "\",\"topic\":\"" + topic
                        + "\",\"records\":" + total + "}");
                    System.out.flush();
                }
            }
        }
        System.out.println("{\"ok\":true,\"records\":" + total + "}");
    }
}
