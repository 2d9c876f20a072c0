// A Kafka Streams application in a streams group (KIP-1071, `group.protocol=streams`, Kafka
// 4.x), for tests of streams-group APIs (StreamsGroupDescribe, ListGroups, offsets, …).
//
// Usage: StreamsApp <bootstrap> <application.id> <input topic> <output topic> [key=value ...]
// Every key=value is a Streams property. The topology counts records per key in an in-memory
// store (so the group has a changelog topic, created by the broker) and writes the counts to
// the output topic: input -> groupByKey -> count -> output. Once the application is RUNNING it
// prints
//   READY {"application_id":"...","state":"RUNNING"}
// and runs until stdin closes; then it closes (leaving the group) and prints {"ok":true}.

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

public class StreamsApp {
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: StreamsApp <bootstrap> <application.id> <input> <output> [key=value ...]");
            System.exit(2);
        }
        String applicationId = args[1];
        Path stateDir = Files.createTempDirectory("klamm-streams-");
        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put("group.protocol", "streams");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "-1");
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "200");
        for (int i = 4; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(args[2], Consumed.with(Serdes.String(), Serdes.String()))
            .groupByKey()
            .count(Materialized.as(Stores.inMemoryKeyValueStore("klamm-counts")))
            .toStream()
            .to(args[3], Produced.with(Serdes.String(), Serdes.Long()));

        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch failed = new CountDownLatch(1);
        KafkaStreams streams = new KafkaStreams(builder.build(), props);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                running.countDown();
            } else if (now == KafkaStreams.State.ERROR) {
                failed.countDown();
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            failed.countDown();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        while (running.getCount() > 0) {
            if (failed.getCount() == 0) {
                System.out.println("{\"ok\":false,\"error\":\"StreamsError\",\"message\":\"the application went to ERROR\"}");
                streams.close(Duration.ofSeconds(5));
                System.exit(1);
            }
            running.await(100, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        System.out.println("READY {\"application_id\":\"" + applicationId + "\",\"state\":\"RUNNING\"}");
        System.out.flush();
        while (System.in.read() != -1) {
            // Runs until stdin closes.
        }
        streams.close(Duration.ofSeconds(10));
        System.out.println("{\"ok\":true}");
    }
}
