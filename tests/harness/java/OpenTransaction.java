// A transactional producer that leaves its transaction open, for tests of ListTransactions,
// DescribeTransactions, DescribeProducers and aborting a hanging transaction.
//
// Usage: OpenTransaction <bootstrap> <topic> <transactional.id> [key=value ...]
// Every key=value is a producer property (e.g. transaction.timeout.ms=900000, or
// transaction.two.phase.commit.enable=true for KIP-939 on Kafka 4.x brokers that allow it).
//
// Begins a transaction, writes one record to partition 0 of the topic and flushes it, then prints
//   READY {"transactional_id":"...","topic":"...","partition":0,"offset":N}
// and reads commands from stdin, one per line:
//   commit   commit the transaction, print COMMITTED, wait for the next command
//   abort    abort it, print ABORTED, wait for the next command
//   prepare  (two-phase commit, where the client has KafkaProducer.prepareTransaction; 4.4.0
//            has not) prepare it, print PREPARED {"producer_id":..,"epoch":..}
// When stdin closes the JVM halts at once, without committing, aborting or closing: the
// transaction stays open with no producer behind it (a hanging transaction) until the broker's
// transaction timeout aborts it.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.util.Properties;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

public class OpenTransaction {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: OpenTransaction <bootstrap> <topic> <transactional.id> [key=value ...]");
            System.exit(2);
        }
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, args[2]);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        boolean twoPhase = Boolean.parseBoolean(props.getProperty("transaction.two.phase.commit.enable", "false"));
        KafkaProducer<String, String> producer = new KafkaProducer<>(props);
        Method keepPrepared = null;
        try {
            // initTransactions(boolean keepPreparedTxn), KIP-939's client API, is not public in
            // every release that has the broker side (4.4.0 has not).
            keepPrepared = KafkaProducer.class.getMethod("initTransactions", boolean.class);
        } catch (NoSuchMethodException absent) {
            // Plain initTransactions() still sends enable2Pc when the config asks for it.
        }
        if (twoPhase && keepPrepared != null) {
            keepPrepared.invoke(producer, false);
        } else {
            producer.initTransactions();
        }
        producer.beginTransaction();
        RecordMetadata written = producer.send(new ProducerRecord<>(args[1], 0, "open-transaction", "uncommitted")).get();
        producer.flush();
        System.out.println("READY {\"transactional_id\":\"" + args[2] + "\",\"topic\":\"" + written.topic()
            + "\",\"partition\":" + written.partition() + ",\"offset\":" + written.offset()
            + ",\"two_phase\":" + twoPhase + "}");
        System.out.flush();

        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = stdin.readLine()) != null) {
            switch (line.trim()) {
                case "commit":
                    producer.commitTransaction();
                    System.out.println("COMMITTED");
                    break;
                case "abort":
                    producer.abortTransaction();
                    System.out.println("ABORTED");
                    break;
                case "prepare":
                    Object state = KafkaProducer.class.getMethod("prepareTransaction").invoke(producer);
                    long producerId = (long) state.getClass().getMethod("producerId").invoke(state);
                    short epoch = (short) state.getClass().getMethod("epoch").invoke(state);
                    System.out.println("PREPARED {\"producer_id\":" + producerId + ",\"epoch\":" + epoch + "}");
                    break;
                default:
                    System.out.println("UNKNOWN " + line);
            }
            System.out.flush();
        }
        Runtime.getRuntime().halt(0);
    }
}
