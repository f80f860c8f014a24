package com.amazonaws.services.lambda.runtime;

/** The client application of a mobile SDK caller (the {@code aws-lambda-java-core} interface). */
public interface Client {

    String getAppTitle();

    String getAppVersionName();

    String getAppVersionCode();

    String getAppPackageName();
}
