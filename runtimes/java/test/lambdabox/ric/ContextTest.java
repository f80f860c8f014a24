package lambdabox.ric;

import static lambdabox.ric.Assert.eq;
import static lambdabox.ric.Assert.raises;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.logging.LogFormat;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;

import lambdabox.ric.json.JsonException;

/** The context object, the environment and the logger. */
public final class ContextTest {
    private ContextTest() {}

    static LambdaEnvironment env() {
        Map<String, String> e = new HashMap<>();
        e.put("AWS_LAMBDA_FUNCTION_NAME", "orders");
        e.put("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        e.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512");
        e.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/orders");
        e.put("AWS_LAMBDA_LOG_STREAM_NAME", "2024/01/01/[$LATEST]abc");
        e.put("AWS_EXECUTION_ENV", "AWS_Lambda_java17");
        return LambdaEnvironment.of(e, "/var/task");
    }

    public static void testContextFields() {
        long deadline = System.currentTimeMillis() + 3000;
        ContextImpl c = new ContextImpl(env(), new Invocation("id-1", deadline, "arn:aws:lambda:us-east-1:1:function:orders",
                "Root=1-abc", null, null, "tenant-a", new byte[0]));
        eq("id-1", c.getAwsRequestId());
        eq("orders", c.getFunctionName());
        eq("$LATEST", c.getFunctionVersion());
        eq(512, c.getMemoryLimitInMB());
        eq("/aws/lambda/orders", c.getLogGroupName());
        eq("2024/01/01/[$LATEST]abc", c.getLogStreamName());
        eq("arn:aws:lambda:us-east-1:1:function:orders", c.getInvokedFunctionArn());
        eq("Root=1-abc", c.getXrayTraceId());
        eq("tenant-a", c.getTenantId());
        eq(null, c.getIdentity());
        eq(null, c.getClientContext());
        int remaining = c.getRemainingTimeInMillis();
        Assert.isTrue(remaining > 2000 && remaining <= 3000, "remaining " + remaining);
        ContextImpl late = new ContextImpl(env(), new Invocation("id-2", 1, null, null, null, null, null, new byte[0]));
        eq(0, late.getRemainingTimeInMillis());
    }

    public static void testEnvironmentDefaults() {
        LambdaEnvironment e = LambdaEnvironment.of(new HashMap<>(), "/cwd");
        eq(128, e.memoryLimit);
        eq("127.0.0.1:9001", e.runtimeApi);
        eq("/cwd", e.taskRoot);
        eq(LogLevel.UNDEFINED, e.logLevel);
        eq(LogFormat.TEXT, e.logFormat);
        eq(false, e.legacyErrorShape());
        eq(true, LambdaEnvironment.of(java.util.Collections.singletonMap("AWS_EXECUTION_ENV", "AWS_Lambda_java8"), "/").legacyErrorShape());
    }

    public static void testIdentityAndClientContext() {
        CognitoIdentity id = ContextImpl.parseIdentity("{\"cognitoIdentityId\":\"us-east-1:1\",\"cognitoIdentityPoolId\":\"pool\"}");
        eq("us-east-1:1", id.getIdentityId());
        eq("pool", id.getIdentityPoolId());
        ClientContext cc = ContextImpl.parseClientContext("{\"client\":{\"installation_id\":\"i\",\"app_title\":\"t\","
                + "\"app_version_name\":\"1.0\",\"app_version_code\":\"10\",\"app_package_name\":\"p\"},"
                + "\"custom\":{\"k\":\"v\",\"n\":1},\"env\":{\"platform\":\"Android\"}}");
        eq("t", cc.getClient().getAppTitle());
        eq("1.0", cc.getClient().getAppVersionName());
        eq("10", cc.getClient().getAppVersionCode());
        eq("p", cc.getClient().getAppPackageName());
        eq("i", ((ContextImpl.ClientImpl) cc.getClient()).getInstallationId());
        eq("v", cc.getCustom().get("k"));
        eq("1", cc.getCustom().get("n"));
        eq("Android", cc.getEnvironment().get("platform"));
        raises(JsonException.class, () -> ContextImpl.parseClientContext("not json"));
    }

    public static void testTextLogger() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RuntimeLogger logger = new RuntimeLogger(out, LogLevel.INFO, LogFormat.TEXT);
        logger.log("plain");
        logger.log(" info\n", LogLevel.INFO);
        logger.log("dropped", LogLevel.DEBUG);
        logger.log("bytes".getBytes(StandardCharsets.UTF_8));
        logger.log((String) null);
        eq("plain[INFO]  info\nbytesnull", out.toString(StandardCharsets.UTF_8));
    }

    public static void testJsonLogger() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RuntimeLogger logger = new RuntimeLogger(out, LogLevel.UNDEFINED, LogFormat.JSON);
        logger.setInvocation("req-9", null);
        logger.log("hi \"there\"", LogLevel.WARN);
        String line = out.toString(StandardCharsets.UTF_8);
        Assert.isTrue(line.matches("\\{\"timestamp\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\","
                + "\"message\":\"hi \\\\\"there\\\\\"\",\"level\":\"WARN\",\"AWSRequestId\":\"req-9\"\\}\n"), line);
    }
}
