// Exports what `cargo xtask api-versions` needs from one kafka-clients jar: the request specs
// (`common/message/*Request.json`, copied byte for byte), or, for releases older than the JSON
// specs, each API's key and highest version from `ApiKeys`:
//
//     java RequestSpecs.java <kafka-clients jar> <slf4j-api jar> <output dir>
//
// Writes <output dir>/*Request.json, or <output dir>/api-keys.tsv (`key<TAB>highest version`).
// The old `ApiKeys` loads `Errors`, which logs: hence slf4j-api.

import java.io.File;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

public class RequestSpecs {
    public static void main(String[] args) throws Exception {
        File jar = new File(args[0]);
        File slf4j = new File(args[1]);
        Path out = Path.of(args[2]);
        Files.createDirectories(out);
        int count = 0;
        try (JarFile file = new JarFile(jar)) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                String name = entry.getName();
                if (name.startsWith("common/message/") && name.endsWith("Request.json")) {
                    try (InputStream in = file.getInputStream(entry)) {
                        Files.write(out.resolve(name.substring("common/message/".length())), in.readAllBytes());
                    }
                    count++;
                }
            }
        }
        if (count > 0) {
            System.err.println("RequestSpecs: " + count + " request specs from " + jar);
            return;
        }
        // Before the JSON specs, ApiKeys held each API's schemas; latestVersion() is the highest.
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toURI().toURL(), slf4j.toURI().toURL()}, null)) {
            Class<?> apiKeys = loader.loadClass("org.apache.kafka.common.protocol.ApiKeys");
            Field id = apiKeys.getField("id");
            Method latest = apiKeys.getMethod("latestVersion");
            StringBuilder tsv = new StringBuilder();
            for (Object api : apiKeys.getEnumConstants()) {
                tsv.append(id.get(api)).append('\t').append(latest.invoke(api)).append('\n');
                count++;
            }
            Files.writeString(out.resolve("api-keys.tsv"), tsv.toString());
        }
        System.err.println("RequestSpecs: " + count + " APIs from ApiKeys of " + jar);
    }
}
