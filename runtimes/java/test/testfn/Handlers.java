package testfn;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

/** Handler fixtures: one nested class per shape the runtime supports or refuses. */
public final class Handlers {
    private Handlers() {}

    public static class Upper implements RequestStreamHandler {
        @Override
        public void handleRequest(InputStream in, OutputStream out, Context context) throws IOException {
            out.write(new String(in.readAllBytes(), StandardCharsets.UTF_8).toUpperCase().getBytes(StandardCharsets.UTF_8));
        }
    }

    public static class Orders implements RequestHandler<Order, Order> {
        @Override
        public Order handleRequest(Order order, Context context) {
            order.setQuantity(order.getQuantity() * 2);
            return order;
        }
    }

    public static class Points implements RequestHandler<Point, Point> {
        @Override
        public Point handleRequest(Point p, Context context) {
            return new Point(p.x() + 1, p.y() + 1, p.label());
        }
    }

    public abstract static class Base<I> implements RequestHandler<I, String> {
        @Override
        public String handleRequest(I input, Context context) {
            return input.getClass().getSimpleName();
        }
    }

    public static class ThroughSuperclass extends Base<Point> {}

    public static class Nothing implements RequestHandler<String, Void> {
        @Override
        public Void handleRequest(String input, Context context) {
            return null;
        }
    }

    public static class Boom implements RequestHandler<Object, Object> {
        @Override
        public Object handleRequest(Object input, Context context) {
            throw new IllegalStateException("boom", new IOException("inner"));
        }
    }

    public static class NoMessage implements RequestHandler<Object, Object> {
        @Override
        public Object handleRequest(Object input, Context context) {
            throw new UnsupportedOperationException();
        }
    }

    public static class Overflow implements RequestHandler<Object, Object> {
        @Override
        public Object handleRequest(Object input, Context context) {
            return handleRequest(input, context);
        }
    }

    public static class BadConstructor implements RequestHandler<Object, Object> {
        public BadConstructor() {
            throw new IllegalArgumentException("no config");
        }

        @Override
        public Object handleRequest(Object input, Context context) {
            return null;
        }
    }

    public static class NoDefaultConstructor implements RequestHandler<Object, Object> {
        public NoDefaultConstructor(String config) {}

        @Override
        public Object handleRequest(Object input, Context context) {
            return null;
        }
    }

    public static class NotAHandler {}

    public static class Generic<T> implements RequestHandler<T, String> {
        @Override
        public String handleRequest(T input, Context context) {
            return "x";
        }
    }

    @SuppressWarnings("rawtypes")
    public static class Raw implements RequestHandler {
        @Override
        public Object handleRequest(Object input, Context context) {
            return "x";
        }
    }

    public class Inner implements RequestHandler<Object, Object> {
        @Override
        public Object handleRequest(Object input, Context context) {
            return null;
        }
    }

    /** Methods for {@code Class::method} handlers. */
    public static class Methods {
        public static int instances;

        public Methods() {
            instances++;
        }

        public String greet(String name) {
            return "hi " + name;
        }

        public static int twice(int n, Context context) {
            return 2 * n;
        }

        public void nothing() {}

        public void stream(InputStream in, OutputStream out) throws IOException {
            out.write(in.readAllBytes());
        }

        public String streamIn(InputStream in, Context context) throws IOException {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }

        public Map<String, Object> context(Context c) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("requestId", c.getAwsRequestId());
            m.put("function", c.getFunctionName());
            m.put("version", c.getFunctionVersion());
            m.put("arn", c.getInvokedFunctionArn());
            m.put("memory", c.getMemoryLimitInMB());
            m.put("group", c.getLogGroupName());
            m.put("stream", c.getLogStreamName());
            m.put("remainingPositive", c.getRemainingTimeInMillis() > 0);
            return m;
        }

        public String overloaded(String s) {
            return "one";
        }

        public String overloaded(String s, Context c) {
            return "two";
        }

        public String tooMany(String a, String b, String c, String d) {
            return "x";
        }

        public String fails(String s) {
            throw new IllegalArgumentException("bad " + s);
        }
    }
}
