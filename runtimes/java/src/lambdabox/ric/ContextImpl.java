package lambdabox.ric;

import java.util.LinkedHashMap;
import java.util.Map;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;

import lambdabox.ric.json.JsonException;
import lambdabox.ric.json.JsonReader;

/** The {@link Context} of one invocation, and the identity and client context in it. */
public final class ContextImpl implements Context {
    private final LambdaEnvironment env;
    private final Invocation invocation;
    private final CognitoIdentity identity;
    private final ClientContext clientContext;

    public ContextImpl(LambdaEnvironment env, Invocation invocation) {
        this.env = env;
        this.invocation = invocation;
        this.identity = invocation.cognitoIdentity == null ? null : parseIdentity(invocation.cognitoIdentity);
        this.clientContext = invocation.clientContext == null ? null : parseClientContext(invocation.clientContext);
    }

    @Override
    public String getAwsRequestId() {
        return invocation.requestId;
    }

    @Override
    public String getLogGroupName() {
        return env.logGroupName;
    }

    @Override
    public String getLogStreamName() {
        return env.logStreamName;
    }

    @Override
    public String getFunctionName() {
        return env.functionName;
    }

    @Override
    public String getFunctionVersion() {
        return env.functionVersion;
    }

    @Override
    public String getInvokedFunctionArn() {
        return invocation.invokedFunctionArn;
    }

    @Override
    public CognitoIdentity getIdentity() {
        return identity;
    }

    @Override
    public ClientContext getClientContext() {
        return clientContext;
    }

    @Override
    public int getRemainingTimeInMillis() {
        long delta = invocation.deadlineMs - System.currentTimeMillis();
        return delta > 0 ? (int) Math.min(delta, Integer.MAX_VALUE) : 0;
    }

    @Override
    public int getMemoryLimitInMB() {
        return env.memoryLimit;
    }

    @Override
    public LambdaLogger getLogger() {
        return LambdaRuntime.getLogger();
    }

    @Override
    public String getXrayTraceId() {
        return invocation.traceId;
    }

    @Override
    public String getTenantId() {
        return invocation.tenantId;
    }

    // ---- the JSON headers ----

    private static Map<?, ?> object(String json, String what) {
        Object tree = JsonReader.parse(json, false);
        if (tree == null) {
            return null;
        }
        if (!(tree instanceof Map)) {
            throw new JsonException("Unable to parse " + what + ": expected a JSON object");
        }
        return (Map<?, ?>) tree;
    }

    /** {@code {"cognitoIdentityId": ..., "cognitoIdentityPoolId": ...}}. */
    static CognitoIdentity parseIdentity(String json) {
        Map<?, ?> m = object(json, "Cognito Identity");
        if (m == null) {
            return null;
        }
        return new Identity(string(m.get("cognitoIdentityId")), string(m.get("cognitoIdentityPoolId")));
    }

    /** {@code {"client": {"installation_id", "app_title", ...}, "custom": {...}, "env": {...}}}. */
    static ClientContext parseClientContext(String json) {
        Map<?, ?> m = object(json, "Client Context");
        if (m == null) {
            return null;
        }
        Object c = m.get("client");
        ClientImpl client = null;
        if (c instanceof Map) {
            Map<?, ?> cm = (Map<?, ?>) c;
            client = new ClientImpl(string(cm.get("installation_id")), string(cm.get("app_title")),
                    string(cm.get("app_version_name")), string(cm.get("app_version_code")), string(cm.get("app_package_name")));
        }
        return new ClientContextImpl(client, stringMap(m.get("custom")), stringMap(m.get("env")));
    }

    /** Gson's reading of a JSON value into a {@code String} field: scalars as text. */
    private static String string(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Map || v instanceof java.util.List) {
            throw new JsonException("Expected a string but was " + (v instanceof Map ? "BEGIN_OBJECT" : "BEGIN_ARRAY"));
        }
        return v.toString();
    }

    private static Map<String, String> stringMap(Object v) {
        if (v == null) {
            return null;
        }
        if (!(v instanceof Map)) {
            throw new JsonException("Expected BEGIN_OBJECT but was " + (v instanceof java.util.List ? "BEGIN_ARRAY" : "STRING"));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
            out.put((String) e.getKey(), string(e.getValue()));
        }
        return out;
    }

    static final class Identity implements CognitoIdentity {
        private final String identityId;
        private final String poolId;

        Identity(String identityId, String poolId) {
            this.identityId = identityId;
            this.poolId = poolId;
        }

        @Override
        public String getIdentityId() {
            return identityId;
        }

        @Override
        public String getIdentityPoolId() {
            return poolId;
        }
    }

    static final class ClientContextImpl implements ClientContext {
        private final Client client;
        private final Map<String, String> custom;
        private final Map<String, String> env;

        ClientContextImpl(Client client, Map<String, String> custom, Map<String, String> env) {
            this.client = client;
            this.custom = custom;
            this.env = env;
        }

        @Override
        public Client getClient() {
            return client;
        }

        @Override
        public Map<String, String> getCustom() {
            return custom;
        }

        @Override
        public Map<String, String> getEnvironment() {
            return env;
        }
    }

    /** The mobile client; {@code getInstallationId()} is AWS's extra method on its implementation. */
    public static final class ClientImpl implements Client {
        private final String installationId;
        private final String appTitle;
        private final String appVersionName;
        private final String appVersionCode;
        private final String appPackageName;

        ClientImpl(String installationId, String appTitle, String appVersionName, String appVersionCode, String appPackageName) {
            this.installationId = installationId;
            this.appTitle = appTitle;
            this.appVersionName = appVersionName;
            this.appVersionCode = appVersionCode;
            this.appPackageName = appPackageName;
        }

        public String getInstallationId() {
            return installationId;
        }

        @Override
        public String getAppTitle() {
            return appTitle;
        }

        @Override
        public String getAppVersionName() {
            return appVersionName;
        }

        @Override
        public String getAppVersionCode() {
            return appVersionCode;
        }

        @Override
        public String getAppPackageName() {
            return appPackageName;
        }
    }
}
