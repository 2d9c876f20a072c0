// Exports what `cargo xtask codegen` needs from a kafka-clients jar: the JSON message specs and
// the table of error codes. Run by `cargo xtask fetch-specs` with the jar on the class path:
//
//     java -cp 'libs/*' ExportSpecs.java <output dir>
//
// Writes <output dir>/message/*.json (copied byte for byte) and <output dir>/errors.json.

import java.io.InputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;

public class ExportSpecs {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Path messages = out.resolve("message");
        Files.createDirectories(messages);

        File jar = new File(Errors.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        int count = 0;
        try (JarFile file = new JarFile(jar)) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                String name = entry.getName();
                if (name.startsWith("common/message/") && name.endsWith(".json")) {
                    try (InputStream in = file.getInputStream(entry)) {
                        Files.write(messages.resolve(name.substring("common/message/".length())), in.readAllBytes());
                    }
                    count++;
                }
            }
        }

        StringBuilder json = new StringBuilder("[\n");
        Errors[] errors = Errors.values();
        for (int i = 0; i < errors.length; i++) {
            Errors error = errors[i];
            boolean retriable = error.exception() instanceof RetriableException;
            json.append("  {\"code\": ").append(error.code())
                .append(", \"name\": ").append(quote(error.name()))
                .append(", \"retriable\": ").append(retriable)
                .append(", \"message\": ").append(quote(error.message() == null ? "" : error.message()))
                .append("}").append(i + 1 < errors.length ? ",\n" : "\n");
        }
        json.append("]\n");
        Files.write(out.resolve("errors.json"), json.toString().getBytes(StandardCharsets.UTF_8));
        System.out.println("exported " + count + " message specs and " + errors.length + " error codes from " + jar.getName());
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                default:
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c)); else out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
