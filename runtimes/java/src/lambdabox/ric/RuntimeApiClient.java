package lambdabox.ric;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The Lambda Runtime API 2018-06-01, over one {@link HttpConnection}: {@code /next}, a result,
 * an invocation error, an INIT error.
 */
public class RuntimeApiClient {
    static final String PREFIX = "/2018-06-01/runtime";
    static final String ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type";

    /** A request the Runtime API refused (RAPID's 4xx): the invocation has failed there already. */
    public static final class RefusedException extends IOException {
        private static final long serialVersionUID = 1L;
        public final int status;

        RefusedException(String endpoint, int status, byte[] body) {
            super("Request to Lambda Runtime '" + endpoint + "' endpoint failed. Reason: '" + status
                    + "'. Response body: '" + new String(body, StandardCharsets.UTF_8) + "'");
            this.status = status;
        }
    }

    private final HttpConnection connection;

    public RuntimeApiClient(HttpConnection connection) {
        this.connection = connection;
    }

    /** Waits for the next invocation. */
    public Invocation next() throws IOException {
        String endpoint = PREFIX + "/invocation/next";
        HttpConnection.Response r = connection.request("GET", endpoint, new String[0], null);
        if (r.status != 200) {
            throw new RefusedException(endpoint, r.status, r.body);
        }
        Invocation invocation = Invocation.fromResponse(r.headers, r.body);
        if (invocation.requestId == null || invocation.requestId.isEmpty()) {
            throw new IOException("Request to Lambda Runtime '" + endpoint + "' endpoint failed: no Lambda-Runtime-Aws-Request-Id header");
        }
        return invocation;
    }

    public void postResponse(String requestId, byte[] body) throws IOException {
        post(PREFIX + "/invocation/" + quote(requestId) + "/response", body,
                new String[] {"Content-Type", "application/json"});
    }

    /** Posts an error document; {@code errorType} goes in {@code Lambda-Runtime-Function-Error-Type}. */
    public void postError(String requestId, byte[] errorDocument, String errorType) throws IOException {
        post(PREFIX + "/invocation/" + quote(requestId) + "/error", errorDocument, errorHeaders(errorType));
    }

    public void postInitError(byte[] errorDocument, String errorType) throws IOException {
        post(PREFIX + "/init/error", errorDocument, errorHeaders(errorType));
    }

    private static String[] errorHeaders(String errorType) {
        return new String[] {"Content-Type", "application/json", ERROR_TYPE_HEADER, errorType};
    }

    private void post(String endpoint, byte[] body, String[] headers) throws IOException {
        HttpConnection.Response r = connection.request("POST", endpoint, headers, body);
        if (r.status < 200 || r.status >= 300) {
            throw new RefusedException(endpoint, r.status, r.body);
        }
    }

    static String quote(String requestId) {
        for (int i = 0; i < requestId.length(); i++) {
            char c = requestId.charAt(i);
            boolean safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~';
            if (!safe) {
                return URLEncoder.encode(requestId, StandardCharsets.UTF_8).replace("+", "%20");
            }
        }
        return requestId;
    }
}
