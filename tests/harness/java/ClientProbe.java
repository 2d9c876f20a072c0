// A Java admin client with any client configuration, for checks only the reference client can
// make (delegation-token login, OAUTHBEARER through Kafka's own token retrieval and refresh).
//
// Usage: ClientProbe <bootstrap> <action> [key=value ...]
//   describe-cluster     one DescribeCluster call
//   hold:<seconds>       DescribeCluster every 500 ms for that long on one client, so that a
//                        credential refresh (and the broker's re-authentication) happens on it
// Every key=value is a client property, e.g. security.protocol=SASL_PLAINTEXT.
// Prints one JSON object: {"ok":true,"cluster_id":...,"nodes":[...],"calls":N} or
// {"ok":false,"error":"<exception class>","message":"..."}; exits 0 either way (2: bad usage).

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.common.Node;

public class ClientProbe {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ClientProbe <bootstrap> <action> [key=value ...]");
            System.exit(2);
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq < 1) {
                System.err.println("not key=value: " + args[i]);
                System.exit(2);
            }
            props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        String action = args[1];
        long holdMs = 0;
        if (action.startsWith("hold:")) {
            holdMs = Long.parseLong(action.substring("hold:".length())) * 1000;
        } else if (!action.equals("describe-cluster")) {
            System.err.println("unknown action " + action);
            System.exit(2);
        }
        try (Admin admin = Admin.create(props)) {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(holdMs);
            int calls = 0;
            String clusterId;
            List<Integer> nodes = new ArrayList<>();
            while (true) {
                DescribeClusterResult cluster = admin.describeCluster();
                clusterId = cluster.clusterId().get();
                nodes.clear();
                for (Node node : cluster.nodes().get()) {
                    nodes.add(node.id());
                }
                calls++;
                if (System.nanoTime() >= end) {
                    break;
                }
                Thread.sleep(500);
            }
            System.out.println("{\"ok\":true,\"cluster_id\":" + quote(clusterId) + ",\"nodes\":" + nodes
                + ",\"calls\":" + calls + "}");
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            System.out.println("{\"ok\":false,\"error\":" + quote(cause.getClass().getSimpleName())
                + ",\"message\":" + quote(String.valueOf(cause.getMessage())) + "}");
        }
    }

    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        return out.append('"').toString();
    }
}
