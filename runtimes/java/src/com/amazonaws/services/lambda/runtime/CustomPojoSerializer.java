package com.amazonaws.services.lambda.runtime;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Type;

/**
 * A serializer the function provides (as a {@code java.util.ServiceLoader} service in its code)
 * to replace the runtime's JSON conversion of handler inputs and outputs
 * (the {@code aws-lambda-java-core} interface).
 */
public interface CustomPojoSerializer {

    <T> T fromJson(InputStream input, Type type);

    <T> T fromJson(String input, Type type);

    <T> void toJson(T value, OutputStream output, Type type);
}
