// Kafka's own codec, driven over stdin/stdout by the `klamm-conformance` checker so Klamm's bytes
// can be compared with what Kafka reads and writes. Run by `cargo xtask conformance`:
//
//     java -cp 'libs/*' Conformance.java
//
// One request per line, one answer per line, in order; payloads are lowercase hex.
//
//     describe <Spec>               -> ok <class> <lowest version> <highest version> <api key or -1>
//     check <Spec> <version> <hex>  -> ok <hex> | unread <n> <hex> | err <exception>
//
// `check` reads the bytes into Kafka's generated class for the spec, then writes that object back
// at the same version and answers with the bytes written; `unread` says the read left n bytes.
// On start the program prints `ready <kafka-clients version>`. Output is flushed whenever no input
// is waiting, so a caller may pipeline any number of requests.

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

public class Conformance {
    // Generated classes are `<Spec>Data` for APIs and headers, and usually `<Spec>` for the other
    // schemas; raft and metadata records have lived in other packages in some releases.
    private static final String[] PACKAGES = {
        "org.apache.kafka.common.message.",
        "org.apache.kafka.raft.generated.",
        "org.apache.kafka.common.metadata.",
        "org.apache.kafka.server.common.",
    };
    private static final String[] SUFFIXES = {"Data", ""};
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private final Map<String, Class<? extends Message>> classes = new HashMap<>();
    private final OutputStream out;

    private Conformance(OutputStream out) {
        this.out = out;
    }

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII), 1 << 16);
        OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
        Conformance conformance = new Conformance(out);
        conformance.ascii("ready " + kafkaVersion() + "\n");
        out.flush();
        String line;
        while ((line = in.readLine()) != null) {
            conformance.handle(line);
            if (!in.ready()) {
                out.flush();
            }
        }
        out.flush();
    }

    // kafka-clients' own record of its version (the public accessor moved between releases).
    private static String kafkaVersion() throws IOException {
        Properties properties = new Properties();
        try (InputStream in = Message.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            if (in != null) {
                properties.load(in);
            }
        }
        return properties.getProperty("version", "unknown");
    }

    private void handle(String line) throws IOException {
        String[] parts = line.split(" ", 4);
        try {
            switch (parts[0]) {
                case "describe":
                    describe(parts[1]);
                    break;
                case "check":
                    check(parts[1], Short.parseShort(parts[2]), parts.length > 3 ? parts[3] : "");
                    break;
                default:
                    throw new IllegalArgumentException("unknown command " + parts[0]);
            }
        } catch (Throwable error) {
            ascii("err " + describeError(error) + "\n");
        }
    }

    private void describe(String spec) throws Exception {
        Class<? extends Message> type = lookup(spec);
        Message message = type.getDeclaredConstructor().newInstance();
        int apiKey = message instanceof ApiMessage ? ((ApiMessage) message).apiKey() : -1;
        ascii("ok " + type.getName() + " " + message.lowestSupportedVersion() + " "
            + message.highestSupportedVersion() + " " + apiKey + "\n");
    }

    private void check(String spec, short version, String hex) throws Exception {
        Message message = lookup(spec).getDeclaredConstructor().newInstance();
        ByteBuffer input = ByteBuffer.wrap(unhex(hex));
        message.read(new ByteBufferAccessor(input), version);
        int unread = input.remaining();

        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = message.size(cache, version);
        ByteBuffer output = ByteBuffer.allocate(size);
        message.write(new ByteBufferAccessor(output), cache, version);
        if (output.hasRemaining()) {
            throw new IllegalStateException("size() said " + size + " bytes but write() wrote " + output.position());
        }
        ascii(unread == 0 ? "ok " : "unread " + unread + " ");
        writeHex(output.array());
        out.write('\n');
    }

    private Class<? extends Message> lookup(String spec) throws ClassNotFoundException {
        Class<? extends Message> cached = classes.get(spec);
        if (cached != null) {
            return cached;
        }
        for (String pkg : PACKAGES) {
            for (String suffix : SUFFIXES) {
                try {
                    Class<?> type = Class.forName(pkg + spec + suffix);
                    if (Message.class.isAssignableFrom(type)) {
                        Class<? extends Message> message = type.asSubclass(Message.class);
                        classes.put(spec, message);
                        return message;
                    }
                } catch (ClassNotFoundException notHere) {
                    // try the next candidate
                }
            }
        }
        throw new ClassNotFoundException("no generated Kafka message class for spec " + spec);
    }

    private static String describeError(Throwable error) {
        StringBuilder text = new StringBuilder(error.toString());
        StackTraceElement[] frames = error.getStackTrace();
        if (frames.length > 0) {
            text.append(" at ").append(frames[0]);
        }
        for (Throwable cause = error.getCause(); cause != null; cause = cause.getCause()) {
            text.append(" caused by ").append(cause);
        }
        return text.toString().replace('\n', ' ').replace('\r', ' ');
    }

    private void ascii(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
    }

    private void writeHex(byte[] bytes) throws IOException {
        byte[] hex = new byte[bytes.length * 2];
        for (int i = 0; i < bytes.length; i++) {
            hex[2 * i] = HEX[(bytes[i] >> 4) & 0xf];
            hex[2 * i + 1] = HEX[bytes[i] & 0xf];
        }
        out.write(hex);
    }

    private static byte[] unhex(String hex) {
        if (hex.length() % 2 != 0) {
            throw new IllegalArgumentException("odd-length hex payload");
        }
        byte[] bytes = new byte[hex.length() / 2];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) ((Character.digit(hex.charAt(2 * i), 16) << 4) | Character.digit(hex.charAt(2 * i + 1), 16));
        }
        return bytes;
    }
}
