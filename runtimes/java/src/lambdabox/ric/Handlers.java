package lambdabox.ric;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.CustomPojoSerializer;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

import lambdabox.ric.json.Mapper;

/**
 * The shapes of handler the runtime calls, as AWS's {@code EventHandlerLoader} wraps them: a
 * {@link RequestStreamHandler}, a method on streams, or a typed handler (a
 * {@link RequestHandler} or a method) whose input and output go through a JSON serializer.
 */
final class Handlers {
    static final byte[] JSON_NULL = "null".getBytes(StandardCharsets.US_ASCII);

    private Handlers() {}

    /** A handler that could not be loaded: every invocation reports the fault. */
    static final class Fault implements LambdaHandler {
        final UserFault fault;

        Fault(UserFault fault) {
            this.fault = fault;
        }

        @Override
        public byte[] call(byte[] event, Context context) {
            throw fault;
        }
    }

    /** A {@link RequestStreamHandler}: what it writes is the result. */
    static final class Stream implements LambdaHandler {
        private final RequestStreamHandler handler;

        Stream(RequestStreamHandler handler) {
            this.handler = handler;
        }

        @Override
        public byte[] call(byte[] event, Context context) throws Throwable {
            ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
            handler.handleRequest(new ByteArrayInputStream(event), out, context);
            return out.toByteArray();
        }
    }

    /** A method taking some of ({@code InputStream}, {@code OutputStream}, {@code Context}). */
    static final class StreamMethod implements LambdaHandler {
        private final Method method;
        private final Object instance;
        private final boolean needsInput;
        private final boolean needsOutput;
        private final boolean needsContext;

        StreamMethod(Method method, Object instance, boolean needsInput, boolean needsOutput, boolean needsContext) {
            this.method = method;
            this.instance = instance;
            this.needsInput = needsInput;
            this.needsOutput = needsOutput;
            this.needsContext = needsContext;
        }

        @Override
        public byte[] call(byte[] event, Context context) throws Throwable {
            ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
            Object[] args = new Object[(needsInput ? 1 : 0) + (needsOutput ? 1 : 0) + (needsContext ? 1 : 0)];
            int i = 0;
            if (needsInput) {
                args[i++] = new ByteArrayInputStream(event);
            }
            if (needsOutput) {
                args[i++] = out;
            }
            if (needsContext) {
                args[i++] = context;
            }
            invoke(method, instance, args);
            if (!needsOutput) {
                out.write(JSON_NULL);
            }
            return out.toByteArray();
        }
    }

    /** The code a typed handler runs. */
    interface Target {
        Object handle(Object input, Context context) throws Throwable;
    }

    /** A {@link RequestHandler} instance: called directly, so no reflection frame is in its traces. */
    static final class InterfaceTarget implements Target {
        @SuppressWarnings("rawtypes")
        private final RequestHandler handler;

        @SuppressWarnings("rawtypes")
        InterfaceTarget(RequestHandler handler) {
            this.handler = handler;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Object handle(Object input, Context context) {
            return handler.handleRequest(input, context);
        }
    }

    /** A method taking ([input][, Context]). */
    static final class MethodTarget implements Target {
        private final Method method;
        private final Object instance;
        private final boolean hasInput;
        private final boolean needsContext;

        MethodTarget(Method method, Object instance, boolean hasInput, boolean needsContext) {
            this.method = method;
            this.instance = instance;
            this.hasInput = hasInput;
            this.needsContext = needsContext;
        }

        @Override
        public Object handle(Object input, Context context) throws Throwable {
            Object[] args = new Object[(hasInput ? 1 : 0) + (needsContext ? 1 : 0)];
            int i = 0;
            if (hasInput) {
                args[i++] = input;
            }
            if (needsContext) {
                args[i++] = context;
            }
            return invoke(method, instance, args);
        }
    }

    /** Calls a handler method, throwing what it throws (not the reflection wrapper). */
    static Object invoke(Method method, Object instance, Object[] args) throws Throwable {
        try {
            return method.invoke(instance, args);
        } catch (InvocationTargetException e) {
            throw e.getCause() != null ? e.getCause() : e;
        }
    }

    /** Converts typed inputs and outputs: the runtime's {@link Mapper}, or the function's own. */
    interface Serializer {
        Object fromJson(byte[] json, Type type) throws Exception;

        byte[] toJson(Object value, Type type) throws Exception;
    }

    static final Serializer MAPPER = new Serializer() {
        @Override
        public Object fromJson(byte[] json, Type type) {
            return Mapper.fromJson(json, type);
        }

        @Override
        public byte[] toJson(Object value, Type type) {
            return Mapper.toJsonBytes(value);
        }
    };

    /** A {@link CustomPojoSerializer} the function provides. */
    static final class Custom implements Serializer {
        private final CustomPojoSerializer serializer;

        Custom(CustomPojoSerializer serializer) {
            this.serializer = serializer;
        }

        @Override
        public Object fromJson(byte[] json, Type type) {
            InputStream in = new ByteArrayInputStream(json);
            return serializer.fromJson(in, type);
        }

        @Override
        public byte[] toJson(Object value, Type type) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
            serializer.toJson(value, (OutputStream) out, type);
            return out.toByteArray();
        }
    }

    /**
     * A typed handler: the event converted to the input type (none when the handler takes no
     * input), the result converted to JSON ({@code null} for a {@code void} handler). Failures of
     * the conversions are AWS's {@code RuntimeException}s around the cause.
     */
    static final class Pojo implements LambdaHandler {
        private final Target target;
        private final Type inputType;
        private final Type outputType;
        private final Serializer serializer;

        Pojo(Target target, Type inputType, Type outputType, Serializer serializer) {
            this.target = target;
            this.inputType = inputType;
            this.outputType = outputType;
            this.serializer = serializer;
        }

        @Override
        public byte[] call(byte[] event, Context context) throws Throwable {
            Object input = null;
            if (inputType != null) {
                try {
                    input = serializer.fromJson(event, inputType);
                } catch (Throwable t) {
                    throw new RuntimeException("An error occurred during JSON parsing", Errors.filterStackTrace(t));
                }
            }
            Object output = target.handle(input, context);
            if (outputType == null) {
                return JSON_NULL;
            }
            try {
                return serializer.toJson(output, outputType);
            } catch (Throwable t) {
                throw new RuntimeException("An error occurred during JSON serialization of response", t);
            }
        }
    }
}
