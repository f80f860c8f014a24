package lambdabox.ric.json;

import java.io.File;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.net.URL;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Currency;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Queue;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * Converts between JSON and Java objects the way AWS's Lambda serializer does for handler
 * inputs and outputs: Jackson, configured by {@code aws-lambda-java-serialization}, with
 * unknown properties ignored, null properties (and null map values) left out, single values
 * accepted as one-element arrays and one-element arrays as single values, {@code ""} and
 * {@code []} read as a null object, unknown enum names as null, scalars coerced (a string
 * {@code "12"} for an {@code int}, a number for a {@code String}), nulls for primitives read as
 * their default, and no annotation honoured. See {@link Beans} for how classes are seen as
 * objects and {@link TimeCodec} for dates.
 */
public final class Mapper {
    private static final int MAX_DEPTH = 1000;

    private Mapper() {}

    // ======================================================================== reading

    /** Reads a JSON document as a value of {@code type}. */
    public static Object fromJson(byte[] json, Type type) {
        return fromTree(JsonReader.parse(json, true), type);
    }

    /** Reads a JSON document as a value of {@code type}. */
    public static Object fromJson(String json, Type type) {
        return fromTree(JsonReader.parse(json, true), type);
    }

    /** Converts a tree from {@link JsonReader} (with exact numbers) to a value of {@code type}. */
    public static Object fromTree(Object node, Type type) {
        return read(node, type, Types.Bindings.EMPTY, 0);
    }

    static String describe(Object node) {
        if (node == null) {
            return "null value";
        }
        if (node instanceof Map) {
            return "Object value (token `JsonToken.START_OBJECT`)";
        }
        if (node instanceof List) {
            return "Array value (token `JsonToken.START_ARRAY`)";
        }
        if (node instanceof String) {
            return "String value ('" + node + "')";
        }
        if (node instanceof Boolean) {
            return "Boolean value (" + node + ")";
        }
        if (node instanceof JsonNumber) {
            return (((JsonNumber) node).isIntegral() ? "Integer value (" : "Floating-point value (") + node + ")";
        }
        return node.getClass().getSimpleName() + " value";
    }

    private static JsonException cannot(Type type, Object node) {
        return new JsonException("Cannot deserialize value of type `" + type.getTypeName() + "` from " + describe(node));
    }

    private static Object read(Object node, Type declared, Types.Bindings bindings, int depth) {
        if (depth > MAX_DEPTH) {
            throw new JsonException("Document nesting depth exceeds the maximum allowed (" + MAX_DEPTH + ")");
        }
        Type type = Types.resolve(declared, bindings);
        Class<?> c = Types.raw(type);

        if (c == Object.class || c == java.io.Serializable.class) {
            return natural(node);
        }
        if (c.isPrimitive()) {
            return readPrimitive(node, c, type);
        }
        if (node == null) {
            if (c == Optional.class) {
                return Optional.empty();
            }
            if (c == OptionalInt.class) {
                return OptionalInt.empty();
            }
            if (c == OptionalLong.class) {
                return OptionalLong.empty();
            }
            if (c == OptionalDouble.class) {
                return OptionalDouble.empty();
            }
            return null;
        }
        if (c == String.class || c == CharSequence.class) {
            return readString(node, type, depth);
        }
        if (Number.class.isAssignableFrom(c) || c == Boolean.class || c == Character.class) {
            return readScalar(node, c, type, depth);
        }
        if (c.isEnum() || (c.getSuperclass() != null && c.getSuperclass().isEnum())) {
            return readEnum(node, c.isEnum() ? c : c.getSuperclass(), depth);
        }
        if (c == byte[].class) {
            return readBytes(node, type);
        }
        if (c == char[].class && node instanceof String) {
            return ((String) node).toCharArray();
        }
        if (c.isArray()) {
            return readArray(node, type, bindings, depth);
        }
        if (Collection.class.isAssignableFrom(c) || c == Iterable.class) {
            return readCollection(node, type, c, depth);
        }
        if (Map.class.isAssignableFrom(c)) {
            return readMap(node, type, c, depth);
        }
        if (c == Optional.class) {
            return Optional.ofNullable(read(node, Types.argumentOr(type, Optional.class, 0), Types.Bindings.EMPTY, depth + 1));
        }
        if (c == OptionalInt.class) {
            return OptionalInt.of((Integer) readPrimitive(node, int.class, type));
        }
        if (c == OptionalLong.class) {
            return OptionalLong.of((Long) readPrimitive(node, long.class, type));
        }
        if (c == OptionalDouble.class) {
            return OptionalDouble.of((Double) readPrimitive(node, double.class, type));
        }
        if (c == AtomicBoolean.class) {
            return new AtomicBoolean((Boolean) readPrimitive(node, boolean.class, type));
        }
        if (c == AtomicReference.class) {
            return new AtomicReference<>(read(node, Types.argumentOr(type, AtomicReference.class, 0), Types.Bindings.EMPTY, depth + 1));
        }
        if (TimeCodec.handles(c)) {
            return TimeCodec.read(unwrapSingle(node), c);
        }
        Object special = readFromString(node, c);
        if (special != null) {
            return special;
        }
        return readBean(node, type, c, depth);
    }

    /** The untyped value of a node, as Jackson reads into {@code Object}. */
    public static Object natural(Object node) {
        if (node instanceof JsonNumber) {
            return ((JsonNumber) node).naturalValue();
        }
        if (node instanceof Map) {
            Map<?, ?> in = (Map<?, ?>) node;
            Map<String, Object> out = new LinkedHashMap<>(Math.max(16, in.size() * 2));
            for (Map.Entry<?, ?> e : in.entrySet()) {
                out.put((String) e.getKey(), natural(e.getValue()));
            }
            return out;
        }
        if (node instanceof List) {
            List<?> in = (List<?>) node;
            List<Object> out = new ArrayList<>(in.size());
            for (Object o : in) {
                out.add(natural(o));
            }
            return out;
        }
        return node;
    }

    /** A one-element array as its element (UNWRAP_SINGLE_VALUE_ARRAYS). */
    private static Object unwrapSingle(Object node) {
        if (node instanceof List && ((List<?>) node).size() == 1) {
            return ((List<?>) node).get(0);
        }
        return node;
    }

    private static String readString(Object node, Type type, int depth) {
        if (node instanceof String) {
            return (String) node;
        }
        if (node instanceof JsonNumber || node instanceof Boolean) {
            return node.toString();
        }
        if (node instanceof List && ((List<?>) node).size() == 1) {
            Object inner = ((List<?>) node).get(0);
            if (!(inner instanceof List)) {
                return inner == null ? null : readString(inner, type, depth + 1);
            }
        }
        throw cannot(type, node);
    }

    private static Object readPrimitive(Object node, Class<?> c, Type type) {
        Object v = node == null ? null : readScalar(node, box(c), type, 0);
        if (v != null) {
            return v;
        }
        if (c == boolean.class) {
            return Boolean.FALSE;
        }
        if (c == char.class) {
            return '\0';
        }
        if (c == double.class) {
            return 0.0d;
        }
        if (c == float.class) {
            return 0.0f;
        }
        if (c == long.class) {
            return 0L;
        }
        if (c == int.class) {
            return 0;
        }
        if (c == short.class) {
            return (short) 0;
        }
        if (c == byte.class) {
            return (byte) 0;
        }
        throw new JsonException("Cannot deserialize value of type `" + c.getName() + "`");
    }

    static Class<?> box(Class<?> c) {
        if (!c.isPrimitive()) {
            return c;
        }
        if (c == int.class) {
            return Integer.class;
        }
        if (c == long.class) {
            return Long.class;
        }
        if (c == boolean.class) {
            return Boolean.class;
        }
        if (c == double.class) {
            return Double.class;
        }
        if (c == float.class) {
            return Float.class;
        }
        if (c == short.class) {
            return Short.class;
        }
        if (c == byte.class) {
            return Byte.class;
        }
        if (c == char.class) {
            return Character.class;
        }
        return Void.class;
    }

    /** Numbers, booleans and characters, with Jackson's default coercions. */
    private static Object readScalar(Object node, Class<?> c, Type type, int depth) {
        if (node instanceof List) {
            List<?> list = (List<?>) node;
            if (list.size() == 1 && !(list.get(0) instanceof List) && depth < MAX_DEPTH) {
                return list.get(0) == null ? null : readScalar(list.get(0), c, type, depth + 1);
            }
            throw cannot(type, node);
        }
        if (node instanceof Map) {
            throw cannot(type, node);
        }
        if (c == Boolean.class) {
            if (node instanceof Boolean) {
                return node;
            }
            if (node instanceof JsonNumber) {
                return ((JsonNumber) node).bigDecimalValue().signum() != 0;
            }
            String s = ((String) node).trim();
            if (s.isEmpty()) {
                return null;
            }
            if (s.equals("true") || s.equals("True") || s.equals("TRUE")) {
                return Boolean.TRUE;
            }
            if (s.equals("false") || s.equals("False") || s.equals("FALSE")) {
                return Boolean.FALSE;
            }
            throw new JsonException("Cannot deserialize value of type `" + type.getTypeName() + "` from String \"" + s
                    + "\": only \"true\" or \"false\" recognized");
        }
        if (c == Character.class) {
            if (node instanceof String) {
                String s = (String) node;
                if (s.isEmpty()) {
                    return null;
                }
                if (s.length() == 1) {
                    return s.charAt(0);
                }
                throw new JsonException("Cannot deserialize value of type `" + type.getTypeName()
                        + "` from String value ('" + s + "'): expected a single-character String");
            }
            if (node instanceof JsonNumber && ((JsonNumber) node).isIntegral()) {
                int code = ((JsonNumber) node).intValue();
                if (code >= 0 && code <= 0xFFFF) {
                    return (char) code;
                }
            }
            throw cannot(type, node);
        }
        // Numbers.
        JsonNumber n;
        if (node instanceof JsonNumber) {
            n = (JsonNumber) node;
        } else if (node instanceof String) {
            String s = ((String) node).trim();
            if (s.isEmpty()) {
                return null;
            }
            if (c == Double.class || c == Float.class) {
                if (s.equals("NaN") || s.equals("Infinity") || s.equals("-Infinity") || s.equals("+Infinity")) {
                    double d = Double.parseDouble(s);
                    return c == Double.class ? (Object) d : (Object) (float) d;
                }
            }
            try {
                new BigDecimal(s);
            } catch (NumberFormatException e) {
                throw new JsonException("Cannot deserialize value of type `" + type.getTypeName() + "` from String \""
                        + s + "\": not a valid `" + type.getTypeName() + "` value");
            }
            n = new JsonNumber(s.startsWith("+") ? s.substring(1) : s);
        } else {
            throw new JsonException("Cannot coerce " + describe(node) + " to `" + type.getTypeName() + "` value");
        }
        if (c == Double.class) {
            return n.doubleValue();
        }
        if (c == Float.class) {
            return n.floatValue();
        }
        if (c == BigDecimal.class) {
            return n.bigDecimalValue();
        }
        if (c == BigInteger.class) {
            return n.bigIntegerValue();
        }
        if (c == Number.class) {
            return n.naturalValue();
        }
        BigInteger whole = n.bigIntegerValue();
        if (c == Long.class || c == AtomicLong.class) {
            long v = checkRange(whole, Long.MIN_VALUE, Long.MAX_VALUE, "long", n);
            return c == Long.class ? (Object) v : new AtomicLong(v);
        }
        if (c == Integer.class || c == AtomicInteger.class) {
            int v = (int) checkRange(whole, Integer.MIN_VALUE, Integer.MAX_VALUE, "int", n);
            return c == Integer.class ? (Object) v : new AtomicInteger(v);
        }
        if (c == Short.class) {
            return (short) checkRange(whole, Short.MIN_VALUE, Short.MAX_VALUE, "short", n);
        }
        if (c == Byte.class) {
            // Jackson accepts 128..255 for a byte, as the unsigned view of it.
            return (byte) checkRange(whole, Byte.MIN_VALUE, 255, "byte", n);
        }
        throw cannot(type, node);
    }

    private static long checkRange(BigInteger v, long min, long max, String name, JsonNumber n) {
        if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
            throw new JsonException("Numeric value (" + n.text() + ") out of range of " + name + " (" + min + " - " + max + ")");
        }
        return v.longValue();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object readEnum(Object node, Class<?> c, int depth) {
        Object[] constants = c.getEnumConstants();
        Object value = unwrapSingle(node);
        if (value instanceof String) {
            String s = (String) value;
            if (s.isEmpty()) {
                return null;
            }
            for (Object constant : constants) {
                if (((Enum) constant).name().equals(s)) {
                    return constant;
                }
            }
            return null; // READ_UNKNOWN_ENUM_VALUES_AS_NULL
        }
        if (value instanceof JsonNumber && ((JsonNumber) value).isIntegral()) {
            long i = ((JsonNumber) value).longValue();
            return i >= 0 && i < constants.length ? constants[(int) i] : null;
        }
        if (value == null) {
            return null;
        }
        throw cannot(c, node);
    }

    private static byte[] readBytes(Object node, Type type) {
        if (node instanceof String) {
            String s = (String) node;
            try {
                return Base64.getDecoder().decode(s);
            } catch (IllegalArgumentException e) {
                try {
                    return Base64.getMimeDecoder().decode(s);
                } catch (IllegalArgumentException e2) {
                    throw new JsonException("Cannot deserialize value of type `byte[]` from String \"" + s
                            + "\": Failed to decode VALUE_STRING as base64 (MIME-NO-LINEFEEDS): " + e.getMessage());
                }
            }
        }
        if (node instanceof List) {
            List<?> list = (List<?>) node;
            byte[] out = new byte[list.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = (Byte) readPrimitive(list.get(i), byte.class, byte.class);
            }
            return out;
        }
        throw cannot(type, node);
    }

    private static List<?> elements(Object node, Type type) {
        if (node instanceof List) {
            return (List<?>) node;
        }
        if (node instanceof String && ((String) node).isEmpty()) {
            return null; // ACCEPT_EMPTY_STRING_AS_NULL_OBJECT
        }
        List<Object> single = new ArrayList<>(1); // ACCEPT_SINGLE_VALUE_AS_ARRAY
        single.add(node);
        return single;
    }

    private static Object readArray(Object node, Type type, Types.Bindings bindings, int depth) {
        List<?> items = elements(node, type);
        if (items == null) {
            return null;
        }
        Type componentType = Types.componentType(type);
        Class<?> component = Types.raw(componentType);
        Object array = Array.newInstance(component, items.size());
        for (int i = 0; i < items.size(); i++) {
            Array.set(array, i, read(items.get(i), componentType, bindings, depth + 1));
        }
        return array;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object readCollection(Object node, Type type, Class<?> c, int depth) {
        List<?> items = elements(node, type);
        if (items == null) {
            return null;
        }
        Type elementType = Types.argumentOr(type, c == Iterable.class ? Iterable.class : Collection.class, 0);
        Collection<Object> out;
        if (EnumSet.class.isAssignableFrom(c)) {
            out = (Collection) EnumSet.noneOf((Class) Types.raw(elementType));
        } else {
            out = (Collection<Object>) newContainer(c, type, node);
        }
        for (Object item : items) {
            out.add(read(item, elementType, Types.Bindings.EMPTY, depth + 1));
        }
        return out;
    }

    private static Object newContainer(Class<?> c, Type type, Object node) {
        if (c.isInterface() || Modifier.isAbstract(c.getModifiers())) {
            if (c == List.class || c == Collection.class || c == Iterable.class || c == java.util.AbstractList.class
                    || c == java.util.AbstractCollection.class) {
                return new ArrayList<>();
            }
            if (c == Set.class || c == java.util.AbstractSet.class) {
                return new HashSet<>();
            }
            if (c == SortedSet.class || c == NavigableSet.class) {
                return new TreeSet<>();
            }
            if (Queue.class.isAssignableFrom(c)) {
                return c.isAssignableFrom(LinkedList.class) ? new LinkedList<>() : new ArrayDeque<>();
            }
            if (c == Map.class || c == java.util.AbstractMap.class) {
                return new LinkedHashMap<>();
            }
            if (c == SortedMap.class || c == NavigableMap.class) {
                return new TreeMap<>();
            }
            if (c == ConcurrentNavigableMap.class) {
                return new ConcurrentSkipListMap<>();
            }
            if (c == ConcurrentMap.class) {
                return new ConcurrentHashMap<>();
            }
            throw new JsonException("Cannot construct instance of `" + c.getName()
                    + "` (no Creators, like default constructor, exist): abstract types either need to be mapped to"
                    + " concrete types, have custom deserializer, or contain additional type information");
        }
        try {
            Constructor<?> ctor = c.getDeclaredConstructor();
            ctor.trySetAccessible();
            return ctor.newInstance();
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new JsonException("Cannot construct instance of `" + c.getName() + "`: " + e, e);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object readMap(Object node, Type type, Class<?> c, int depth) {
        Object value = unwrapSingle(node);
        if (value instanceof String && ((String) value).isEmpty()) {
            return null;
        }
        if (!(value instanceof Map)) {
            throw cannot(type, node);
        }
        Type keyType = Types.argumentOr(type, Map.class, 0);
        Type valueType = Types.argumentOr(type, Map.class, 1);
        Map<Object, Object> out;
        if (EnumMap.class.isAssignableFrom(c)) {
            out = new EnumMap(Types.raw(keyType));
        } else {
            out = (Map<Object, Object>) newContainer(c, type, node);
        }
        for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
            out.put(readKey((String) e.getKey(), keyType), read(e.getValue(), valueType, Types.Bindings.EMPTY, depth + 1));
        }
        return out;
    }

    private static Object readKey(String key, Type keyType) {
        Class<?> k = Types.raw(keyType);
        if (k == String.class || k == Object.class || k == CharSequence.class) {
            return key;
        }
        if (k.isEnum()) {
            for (Object constant : k.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(key)) {
                    return constant;
                }
            }
            throw new JsonException("Cannot deserialize Map key of type `" + k.getName() + "` from String \"" + key
                    + "\": not one of the values accepted for Enum class");
        }
        try {
            Object v = read(key, k, Types.Bindings.EMPTY, 0);
            if (v == null) {
                throw new JsonException("Cannot deserialize Map key of type `" + k.getName() + "` from String \"\"");
            }
            return v;
        } catch (JsonException e) {
            throw new JsonException("Cannot deserialize Map key of type `" + k.getName() + "` from String \"" + key
                    + "\": " + e.getMessage(), e);
        }
    }

    /** Types Jackson reads from their string form. Null when {@code c} is not one. */
    private static Object readFromString(Object node, Class<?> c) {
        boolean known = c == UUID.class || c == URI.class || c == URL.class || c == Locale.class || c == Currency.class
                || c == Pattern.class || c == File.class || c == Path.class || c == Class.class
                || Charset.class.isAssignableFrom(c) || c == StringBuilder.class || c == StringBuffer.class;
        if (!known) {
            return null;
        }
        Object value = unwrapSingle(node);
        if (!(value instanceof String)) {
            if (c == StringBuilder.class || c == StringBuffer.class) {
                value = readString(value, c, 0);
            } else {
                throw cannot(c, node);
            }
        }
        String s = (String) value;
        try {
            if (c == UUID.class) {
                return UUID.fromString(s);
            }
            if (c == URI.class) {
                return URI.create(s);
            }
            if (c == URL.class) {
                return new URL(s);
            }
            if (c == Locale.class) {
                return Locale.forLanguageTag(s.replace('_', '-'));
            }
            if (c == Currency.class) {
                return Currency.getInstance(s);
            }
            if (c == Pattern.class) {
                return Pattern.compile(s);
            }
            if (c == File.class) {
                return new File(s);
            }
            if (c == Path.class) {
                return s.startsWith("file:") ? Paths.get(URI.create(s)) : Paths.get(s);
            }
            if (c == Class.class) {
                return Class.forName(s, false, Thread.currentThread().getContextClassLoader());
            }
            if (c == StringBuilder.class) {
                return new StringBuilder(s);
            }
            if (c == StringBuffer.class) {
                return new StringBuffer(s);
            }
            return Charset.forName(s);
        } catch (Exception e) {
            throw new JsonException("Cannot deserialize value of type `" + c.getName() + "` from String \"" + s
                    + "\": " + e.getMessage(), e);
        }
    }

    private static Object readBean(Object node, Type type, Class<?> c, int depth) {
        Object value = node;
        if (value instanceof List) {
            List<?> list = (List<?>) value;
            if (list.isEmpty()) {
                return null; // ACCEPT_EMPTY_ARRAY_AS_NULL_OBJECT
            }
            if (list.size() == 1) {
                return read(list.get(0), type, Types.Bindings.EMPTY, depth + 1); // UNWRAP_SINGLE_VALUE_ARRAYS
            }
        }
        if (value instanceof String && ((String) value).isEmpty()) {
            return null; // ACCEPT_EMPTY_STRING_AS_NULL_OBJECT
        }
        Beans.Info info = Beans.of(c);
        if (info.creationProblem != null) {
            throw new JsonException("Cannot construct instance of `" + c.getName() + "` (" + info.creationProblem + ")");
        }
        if (!(value instanceof Map)) {
            String what = value instanceof String ? "String-argument" : value instanceof Boolean ? "boolean/Boolean-argument"
                    : value instanceof JsonNumber ? (((JsonNumber) value).isIntegral() ? "int/Int-argument" : "double/Double-argument")
                    : "delegate- or property-based";
            throw new JsonException("Cannot construct instance of `" + c.getName()
                    + "` (although at least one Creator exists): no " + what
                    + " constructor/factory method to deserialize from " + describe(value));
        }
        Map<?, ?> fields = (Map<?, ?>) value;
        Types.Bindings bindings = Types.bindingsOf(type);
        boolean eventsClass = c.getName().startsWith("com.amazonaws.services.lambda.runtime.events.");
        if (info.isRecord()) {
            Object[] args = new Object[info.componentNames.length];
            for (int i = 0; i < args.length; i++) {
                Object v = fields.get(info.componentNames[i]);
                args[i] = read(v, info.componentTypes[i], bindings, depth + 1);
            }
            return construct(info.constructor, args, c);
        }
        Object bean = construct(info.constructor, new Object[0], c);
        for (Map.Entry<?, ?> e : fields.entrySet()) {
            String name = (String) e.getKey();
            Beans.Property p = info.writable.get(name);
            if (p == null && eventsClass) {
                // AWS's serializer maps the events library's classes with mixins ("Records",
                // "EventSource", ...); a case-insensitive match covers most of them.
                p = info.writableIgnoringCase.get(name.toLowerCase(Locale.ROOT));
            }
            if (p == null) {
                continue; // FAIL_ON_UNKNOWN_PROPERTIES is off
            }
            setProperty(bean, p, e.getValue(), bindings, depth);
        }
        return bean;
    }

    private static void setProperty(Object bean, Beans.Property p, Object node, Types.Bindings bindings, int depth) {
        try {
            if (!p.setters.isEmpty()) {
                Method setter = chooseSetter(p.setters, node);
                Object v = read(node, setter.getGenericParameterTypes()[0], bindings, depth + 1);
                setter.invoke(bean, v);
            } else {
                Object v = read(node, p.writableField.getGenericType(), bindings, depth + 1);
                p.writableField.set(bean, v);
            }
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new JsonException("Problem deserializing property '" + p.name + "' (in " + bean.getClass().getName()
                    + "): " + cause, cause);
        } catch (IllegalAccessException e) {
            throw new JsonException("Cannot set property '" + p.name + "' (in " + bean.getClass().getName() + "): "
                    + e.getMessage(), e);
        } catch (JsonException e) {
            throw new JsonException(e.getMessage() + " (through reference chain: " + bean.getClass().getName() + "[\""
                    + p.name + "\"])", e.getCause());
        }
    }

    /** Among overloaded setters, the one whose parameter fits the JSON value best. */
    private static Method chooseSetter(List<Method> setters, Object node) {
        if (setters.size() == 1) {
            return setters.get(0);
        }
        for (Method m : setters) {
            Class<?> t = box(m.getParameterTypes()[0]);
            boolean fits = node instanceof String ? t == String.class
                    : node instanceof JsonNumber ? Number.class.isAssignableFrom(t)
                    : node instanceof Boolean ? t == Boolean.class
                    : node instanceof List ? t.isArray() || Collection.class.isAssignableFrom(t)
                    : node instanceof Map && !(t == String.class || Number.class.isAssignableFrom(t));
            if (fits) {
                return m;
            }
        }
        return setters.get(0);
    }

    private static Object construct(Constructor<?> ctor, Object[] args, Class<?> c) {
        try {
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new JsonException("Cannot construct instance of `" + c.getName() + "`, problem: " + cause.getMessage(), cause);
        } catch (ReflectiveOperationException | IllegalArgumentException e) {
            throw new JsonException("Cannot construct instance of `" + c.getName() + "`: " + e, e);
        }
    }

    // ======================================================================== writing

    /** The JSON text of {@code value}, as AWS's serializer writes a handler's result. */
    public static String toJson(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    /** {@link #toJson} as UTF-8 bytes. */
    public static byte[] toJsonBytes(Object value) {
        return toJson(value).getBytes(StandardCharsets.UTF_8);
    }

    private static void write(StringBuilder out, Object v, int depth) {
        if (depth > MAX_DEPTH) {
            throw new JsonException("Direct self-reference leading to cycle, or nesting deeper than " + MAX_DEPTH);
        }
        if (v == null) {
            out.append("null");
        } else if (v instanceof String) {
            JsonWriter.writeString(out, (String) v, JsonWriter.Style.JACKSON);
        } else if (v instanceof Boolean) {
            out.append(((Boolean) v).booleanValue());
        } else if (v instanceof Number) {
            JsonWriter.writeNumber(out, (Number) v);
        } else if (v instanceof Character || v instanceof StringBuilder || v instanceof StringBuffer) {
            JsonWriter.writeString(out, v.toString(), JsonWriter.Style.JACKSON);
        } else if (v instanceof Enum) {
            JsonWriter.writeString(out, ((Enum<?>) v).name(), JsonWriter.Style.JACKSON);
        } else if (v instanceof Path) {
            JsonWriter.writeString(out, ((Path) v).toUri().toString(), JsonWriter.Style.JACKSON);
        } else if (v instanceof Map) {
            writeMap(out, (Map<?, ?>) v, depth);
        } else if (v instanceof Iterable) {
            writeIterable(out, ((Iterable<?>) v).iterator(), depth);
        } else if (v.getClass().isArray()) {
            writeArray(out, v, depth);
        } else if (v instanceof Optional) {
            Optional<?> o = (Optional<?>) v;
            write(out, o.orElse(null), depth + 1);
        } else if (v instanceof OptionalInt) {
            OptionalInt o = (OptionalInt) v;
            out.append(o.isPresent() ? String.valueOf(o.getAsInt()) : "null");
        } else if (v instanceof OptionalLong) {
            OptionalLong o = (OptionalLong) v;
            out.append(o.isPresent() ? String.valueOf(o.getAsLong()) : "null");
        } else if (v instanceof OptionalDouble) {
            OptionalDouble o = (OptionalDouble) v;
            if (o.isPresent()) {
                JsonWriter.writeNumber(out, o.getAsDouble());
            } else {
                out.append("null");
            }
        } else if (v instanceof AtomicBoolean) {
            out.append(((AtomicBoolean) v).get());
        } else if (v instanceof AtomicReference) {
            write(out, ((AtomicReference<?>) v).get(), depth + 1);
        } else if (TimeCodec.handles(v.getClass())) {
            TimeCodec.write(out, v);
        } else if (v instanceof UUID || v instanceof URI || v instanceof URL || v instanceof Locale
                || v instanceof Currency || v instanceof Pattern || v instanceof Charset) {
            JsonWriter.writeString(out, v instanceof Currency ? ((Currency) v).getCurrencyCode() : v.toString(), JsonWriter.Style.JACKSON);
        } else if (v instanceof File) {
            JsonWriter.writeString(out, ((File) v).getAbsolutePath(), JsonWriter.Style.JACKSON);
        } else if (v instanceof Class) {
            JsonWriter.writeString(out, ((Class<?>) v).getName(), JsonWriter.Style.JACKSON);
        } else {
            writeBean(out, v, depth);
        }
    }

    private static void writeMap(StringBuilder out, Map<?, ?> map, int depth) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (e.getValue() == null) {
                continue; // NON_NULL applies to map values too
            }
            if (!first) {
                out.append(',');
            }
            first = false;
            Object key = e.getKey();
            String name;
            if (key == null) {
                name = "";
            } else if (key instanceof Enum) {
                name = ((Enum<?>) key).name();
            } else if (key instanceof java.util.Date) {
                name = String.valueOf(((java.util.Date) key).getTime());
            } else if (key instanceof Class) {
                name = ((Class<?>) key).getName();
            } else {
                name = key.toString();
            }
            JsonWriter.writeString(out, name, JsonWriter.Style.JACKSON);
            out.append(':');
            write(out, e.getValue(), depth + 1);
        }
        out.append('}');
    }

    private static void writeIterable(StringBuilder out, Iterator<?> it, int depth) {
        out.append('[');
        boolean first = true;
        while (it.hasNext()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            write(out, it.next(), depth + 1);
        }
        out.append(']');
    }

    private static void writeArray(StringBuilder out, Object array, int depth) {
        if (array instanceof byte[]) {
            out.append('"').append(Base64.getEncoder().encodeToString((byte[]) array)).append('"');
            return;
        }
        if (array instanceof char[]) {
            JsonWriter.writeString(out, new String((char[]) array), JsonWriter.Style.JACKSON);
            return;
        }
        out.append('[');
        int n = Array.getLength(array);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                out.append(',');
            }
            write(out, Array.get(array, i), depth + 1);
        }
        out.append(']');
    }

    private static void writeBean(StringBuilder out, Object bean, int depth) {
        Beans.Info info = Beans.of(bean.getClass());
        out.append('{');
        boolean first = true;
        for (Beans.Property p : info.readable) {
            Object value = p.get(bean);
            if (value == null || isAbsent(value)) {
                continue; // Include.NON_NULL
            }
            if (value == bean) {
                throw new JsonException("Direct self-reference leading to cycle (through reference chain: "
                        + bean.getClass().getName() + "[\"" + p.name + "\"])");
            }
            if (!first) {
                out.append(',');
            }
            first = false;
            JsonWriter.writeString(out, p.name, JsonWriter.Style.JACKSON);
            out.append(':');
            try {
                write(out, value, depth + 1);
            } catch (StackOverflowError e) {
                throw new JsonException("Infinite recursion (StackOverflowError) (through reference chain: "
                        + bean.getClass().getName() + "[\"" + p.name + "\"])");
            }
        }
        out.append('}');
    }

    private static boolean isAbsent(Object value) {
        return value instanceof Optional && !((Optional<?>) value).isPresent()
                || value instanceof OptionalInt && !((OptionalInt) value).isPresent()
                || value instanceof OptionalLong && !((OptionalLong) value).isPresent()
                || value instanceof OptionalDouble && !((OptionalDouble) value).isPresent()
                || value instanceof AtomicReference && ((AtomicReference<?>) value).get() == null;
    }
}
