package lambdabox.ric;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/** Assertions for the plain test runner. */
final class Assert {
    private Assert() {}

    interface Block {
        void run() throws Throwable;
    }

    static void eq(Object expected, Object actual) {
        if (expected instanceof byte[] && actual instanceof byte[]) {
            if (!Arrays.equals((byte[]) expected, (byte[]) actual)) {
                throw new AssertionError("expected <" + new String((byte[]) expected, StandardCharsets.UTF_8) + "> but was <"
                        + new String((byte[]) actual, StandardCharsets.UTF_8) + ">");
            }
            return;
        }
        if (!Objects.equals(expected, actual)) {
            throw new AssertionError("expected <" + expected + "> but was <" + actual + ">"
                    + (expected != null && actual != null && !expected.getClass().equals(actual.getClass())
                            ? " (" + expected.getClass().getName() + " vs " + actual.getClass().getName() + ")" : ""));
        }
    }

    static void json(String expected, byte[] actual) {
        eq(expected, new String(actual, StandardCharsets.UTF_8));
    }

    static void isTrue(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    static void contains(String haystack, String needle) {
        if (haystack == null || !haystack.contains(needle)) {
            throw new AssertionError("expected <" + haystack + "> to contain <" + needle + ">");
        }
    }

    /** Runs {@code block}, which must throw a {@code type}; returns it. */
    static <T extends Throwable> T raises(Class<T> type, Block block) {
        try {
            block.run();
        } catch (Throwable t) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            throw new AssertionError("expected " + type.getName() + " but got " + t, t);
        }
        throw new AssertionError("expected " + type.getName() + " but nothing was thrown");
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
