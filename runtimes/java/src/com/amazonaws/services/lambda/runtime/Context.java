package com.amazonaws.services.lambda.runtime;

/**
 * The invocation's context: who is running, for which request, and how much time is left
 * (the {@code aws-lambda-java-core} interface, same package and methods).
 */
public interface Context {

    /** The request id of this invocation (the id the caller of Invoke gets back). */
    String getAwsRequestId();

    /** The CloudWatch log group of the function ({@code /aws/lambda/<name>}). */
    String getLogGroupName();

    /** The log stream of this execution environment. */
    String getLogStreamName();

    /** The name of the function. */
    String getFunctionName();

    /** The version of the function being run ({@code $LATEST} or a number). */
    String getFunctionVersion();

    /** The ARN used to invoke the function (with a version or alias when the caller gave one). */
    String getInvokedFunctionArn();

    /** The Amazon Cognito identity of the caller, or null. */
    CognitoIdentity getIdentity();

    /** The client context sent by a mobile SDK caller, or null. */
    ClientContext getClientContext();

    /** Milliseconds left before the invocation times out (never negative). */
    int getRemainingTimeInMillis();

    /** The memory configured for the function, in MB. */
    int getMemoryLimitInMB();

    /** The logger of the runtime (writes to the function's log). */
    LambdaLogger getLogger();

    /** The X-Ray trace id of the invocation, or null. */
    default String getXrayTraceId() {
        return null;
    }

    /** The tenant id of the invocation (tenant isolation mode), or null. */
    default String getTenantId() {
        return null;
    }
}
