package lambdabox.ric;

import java.util.Map;

/** One event from {@code /runtime/invocation/next}, with the headers that describe it. */
public final class Invocation {
    public final String requestId;
    public final long deadlineMs;
    public final String invokedFunctionArn;
    public final String traceId;
    public final String clientContext;
    public final String cognitoIdentity;
    public final String tenantId;
    public final byte[] body;

    public Invocation(String requestId, long deadlineMs, String invokedFunctionArn, String traceId,
            String clientContext, String cognitoIdentity, String tenantId, byte[] body) {
        this.requestId = requestId;
        this.deadlineMs = deadlineMs;
        this.invokedFunctionArn = invokedFunctionArn;
        this.traceId = traceId;
        this.clientContext = clientContext;
        this.cognitoIdentity = cognitoIdentity;
        this.tenantId = tenantId;
        this.body = body;
    }

    /** From a {@code /next} response's headers (lower-case names) and body. */
    static Invocation fromResponse(Map<String, String> headers, byte[] body) {
        long deadline = 0;
        String d = headers.get("lambda-runtime-deadline-ms");
        if (d != null) {
            try {
                deadline = Long.parseLong(d.trim());
            } catch (NumberFormatException e) {
                deadline = 0;
            }
        }
        return new Invocation(
                headers.get("lambda-runtime-aws-request-id"),
                deadline,
                headers.get("lambda-runtime-invoked-function-arn"),
                emptyToNull(headers.get("lambda-runtime-trace-id")),
                emptyToNull(headers.get("lambda-runtime-client-context")),
                emptyToNull(headers.get("lambda-runtime-cognito-identity")),
                emptyToNull(headers.get("lambda-runtime-aws-tenant-id")),
                body);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
