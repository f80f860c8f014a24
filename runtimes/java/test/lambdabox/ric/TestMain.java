package lambdabox.ric;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A plain test runner (JUnit is not available offline): runs every public static
 * {@code void test*()} method of the test classes, prints each failure and
 * {@code N passed, N failed}, and exits with 1 when a test failed.
 *
 * <p>{@code java ... lambdabox.ric.TestMain [filter]} runs the tests whose
 * {@code Class.method} name contains {@code filter}.
 */
public final class TestMain {
    static final Class<?>[] SUITES = {
        JsonTest.class,
        MapperTest.class,
        HandlerLoaderTest.class,
        ErrorsTest.class,
        ContextTest.class,
        HttpConnectionTest.class,
        InvokeLoopTest.class,
    };

    public static void main(String[] args) {
        String filter = args.length > 0 ? args[0] : "";
        // What handlers under test log goes to a buffer, not the report.
        Main.installLogger(new RuntimeLogger(new java.io.ByteArrayOutputStream(),
                com.amazonaws.services.lambda.runtime.logging.LogLevel.UNDEFINED,
                com.amazonaws.services.lambda.runtime.logging.LogFormat.TEXT));
        int passed = 0;
        List<String> failures = new ArrayList<>();
        for (Class<?> suite : SUITES) {
            Method[] methods = suite.getDeclaredMethods();
            Arrays.sort(methods, Comparator.comparing(Method::getName));
            for (Method m : methods) {
                String name = suite.getSimpleName() + "." + m.getName();
                if (!m.getName().startsWith("test") || !Modifier.isStatic(m.getModifiers())
                        || m.getParameterCount() != 0 || !name.contains(filter)) {
                    continue;
                }
                try {
                    m.invoke(null);
                    passed++;
                } catch (InvocationTargetException e) {
                    Throwable cause = e.getCause();
                    failures.add(name);
                    System.out.println("FAIL " + name + ": " + cause);
                    if (!(cause instanceof AssertionError)) {
                        cause.printStackTrace(System.out);
                    } else {
                        for (StackTraceElement el : cause.getStackTrace()) {
                            if (el.getClassName().equals(suite.getName())) {
                                System.out.println("    at " + el);
                            }
                        }
                    }
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        System.out.println(passed + " passed, " + failures.size() + " failed");
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
