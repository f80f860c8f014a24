package com.amazonaws.services.lambda.runtime;

/** The Amazon Cognito identity of the caller (the {@code aws-lambda-java-core} interface). */
public interface CognitoIdentity {

    String getIdentityId();

    String getIdentityPoolId();
}
