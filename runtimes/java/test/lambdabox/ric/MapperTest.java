package lambdabox.ric;

import static lambdabox.ric.Assert.eq;
import static lambdabox.ric.Assert.raises;

import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

import lambdabox.ric.json.JsonException;
import lambdabox.ric.json.Mapper;
import testfn.Box;
import testfn.Order;
import testfn.Point;

/** Conversions between JSON and Java objects, as AWS's serializer (Jackson) does them. */
public final class MapperTest {
    private MapperTest() {}

    /** Field types to take generic types from. */
    @SuppressWarnings("unused")
    private static final class Holder {
        Map<String, Object> mapOfObject;
        List<Integer> listOfInt;
        Map<Integer, List<Point>> nested;
        Set<String> set;
        TreeMap<String, Integer> treeMap;
        Box<Point> boxOfPoint;
        Optional<String> optional;
        Map<Order.Status, String> enumKeys;
        List<? extends Number> wildcard;
    }

    private static Type type(String field) {
        try {
            return Holder.class.getDeclaredField(field).getGenericType();
        } catch (NoSuchFieldException e) {
            throw new AssertionError(e);
        }
    }

    private static Object read(String json, Type type) {
        return Mapper.fromJson(json, type);
    }

    // ---- reading ----

    public static void testScalarsAndCoercions() {
        eq("x", read("\"x\"", String.class));
        eq("12", read("12", String.class));
        eq("1.50", read("1.50", String.class));
        eq("true", read("true", String.class));
        eq("only", read("[\"only\"]", String.class));
        eq(null, read("null", String.class));
        eq(12, read("12", Integer.class));
        eq(12, read("\"12\"", int.class));
        eq(1, read("1.9", int.class));
        eq(0, read("null", int.class));
        eq(null, read("null", Integer.class));
        eq(null, read("\"\"", Integer.class));
        eq(5000000000L, read("5000000000", long.class));
        eq(2.5, read("2.5", double.class));
        eq(2.5f, read("\"2.5\"", float.class));
        eq(Double.NaN, read("\"NaN\"", Double.class));
        eq(true, read("true", boolean.class));
        eq(true, read("\"true\"", Boolean.class));
        eq(false, read("0", boolean.class));
        eq(false, read("null", boolean.class));
        eq('c', read("\"c\"", char.class));
        eq(new BigDecimal("1.50"), read("1.50", BigDecimal.class));
        eq(new BigInteger("123456789012345678901234"), read("123456789012345678901234", BigInteger.class));
        eq((short) 7, read("7", short.class));
        eq((byte) -1, read("255", byte.class));
    }

    public static void testScalarErrors() {
        Assert.contains(raises(JsonException.class, () -> read("{\"a\":1}", String.class)).getMessage(),
                "Cannot deserialize value of type `java.lang.String` from Object value");
        Assert.contains(raises(JsonException.class, () -> read("3000000000", int.class)).getMessage(),
                "Numeric value (3000000000) out of range of int");
        Assert.contains(raises(JsonException.class, () -> read("\"abc\"", int.class)).getMessage(),
                "not a valid");
        raises(JsonException.class, () -> read("\"yes\"", boolean.class));
        raises(JsonException.class, () -> read("\"ab\"", char.class));
        raises(JsonException.class, () -> read("[1,2]", String.class));
    }

    public static void testUntypedLikeJackson() {
        Object v = read("{\"i\":1,\"l\":10000000000,\"d\":1.5,\"s\":\"x\",\"a\":[true,null],\"o\":{}}", Object.class);
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("i", 1);
        expected.put("l", 10000000000L);
        expected.put("d", 1.5);
        expected.put("s", "x");
        expected.put("a", Arrays.asList(true, null));
        expected.put("o", new LinkedHashMap<>());
        eq(expected, v);
        eq(LinkedHashMap.class, v.getClass());
        eq(expected, read("{\"i\":1,\"l\":10000000000,\"d\":1.5,\"s\":\"x\",\"a\":[true,null],\"o\":{}}", type("mapOfObject")));
    }

    public static void testCollectionsAndMaps() {
        eq(Arrays.asList(1, 2, 3), read("[1,\"2\",3.0]", type("listOfInt")));
        eq(ArrayList.class, read("[]", type("listOfInt")).getClass());
        eq(Arrays.asList(7), read("7", type("listOfInt"))); // a single value as an array
        eq(null, read("\"\"", type("listOfInt")));
        eq(new HashSet<>(Arrays.asList("a", "b")), read("[\"a\",\"b\",\"a\"]", type("set")));
        Object tree = read("{\"b\":2,\"a\":1}", type("treeMap"));
        eq(TreeMap.class, tree.getClass());
        eq("{a=1, b=2}", tree.toString());
        Map<?, ?> nested = (Map<?, ?>) read("{\"1\":[{\"x\":1,\"y\":2,\"label\":\"p\"}]}", type("nested"));
        eq(new Point(1, 2, "p"), ((List<?>) nested.get(1)).get(0));
        Map<?, ?> enumKeys = (Map<?, ?>) read("{\"NEW\":\"n\"}", type("enumKeys"));
        eq("n", enumKeys.get(Order.Status.NEW));
        eq(Arrays.asList(1, 2.5), read("[1,2.5]", type("wildcard")));
        int[] ints = (int[]) read("[1,2]", int[].class);
        eq("[1, 2]", Arrays.toString(ints));
        String[] strings = (String[]) read("\"solo\"", String[].class);
        eq("[solo]", Arrays.toString(strings));
        eq("[104, 105]", Arrays.toString((byte[]) read("\"aGk=\"", byte[].class)));
    }

    public static void testBeans() {
        Order o = (Order) read("{\"id\":\"o-1\",\"quantity\":\"3\",\"price\":9.90,\"paid\":true,"
                + "\"items\":[{\"sku\":\"A\",\"weight\":1.5,\"cache\":\"ignored\"}],\"counts\":{\"a\":1},"
                + "\"status\":\"SHIPPED\",\"secret\":\"s\",\"URL\":\"http://x\",\"summary\":\"ignored\",\"unknown\":[1,2]}",
                Order.class);
        eq("o-1", o.getId());
        eq(3, o.getQuantity());
        eq(new BigDecimal("9.90"), o.getPrice());
        eq(true, o.isPaid());
        eq("A", o.getItems().get(0).sku);
        eq(1.5, o.getItems().get(0).weight);
        eq(null, o.getItems().get(0).cache);
        eq(1, o.getCounts().get("a"));
        eq(Order.Status.SHIPPED, o.getStatus());
        eq("s", o.secret());
        eq("http://x", o.getURL());
    }

    public static void testBeanEdgeCases() {
        eq(null, read("\"\"", Order.class)); // ACCEPT_EMPTY_STRING_AS_NULL_OBJECT
        eq(null, read("[]", Order.class)); // ACCEPT_EMPTY_ARRAY_AS_NULL_OBJECT
        eq("z", ((Order) read("[{\"id\":\"z\"}]", Order.class)).getId()); // UNWRAP_SINGLE_VALUE_ARRAYS
        eq(null, ((Order) read("{\"status\":\"LOST\"}", Order.class)).getStatus()); // unknown enum as null
        eq(Order.Status.SHIPPED, ((Order) read("{\"status\":1}", Order.class)).getStatus());
        Assert.contains(raises(JsonException.class, () -> read("\"abc\"", Order.class)).getMessage(),
                "no String-argument constructor/factory method to deserialize from String value ('abc')");
        Assert.contains(raises(JsonException.class, () -> read("{\"quantity\":\"many\"}", Order.class)).getMessage(),
                "through reference chain: testfn.Order[\"quantity\"]");
        Assert.contains(raises(JsonException.class, () -> read("{}", Runnable.class)).getMessage(),
                "abstract types");
    }

    public static void testRecordsAndGenerics() {
        eq(new Point(1, 2, null), read("{\"y\":2,\"x\":1,\"z\":3}", Point.class));
        eq(new Point(0, 0, null), read("{}", Point.class));
        @SuppressWarnings("unchecked")
        Box<Point> box = (Box<Point>) read("{\"value\":{\"x\":5},\"values\":[{\"x\":6}]}", type("boxOfPoint"));
        eq(new Point(5, 0, null), box.getValue());
        eq(new Point(6, 0, null), box.getValues().get(0));
        Box.PointBox sub = (Box.PointBox) read("{\"value\":{\"x\":7}}", Box.PointBox.class);
        eq(new Point(7, 0, null), sub.getValue());
        eq(Optional.of("v"), read("\"v\"", type("optional")));
        eq(Optional.empty(), read("null", type("optional")));
    }

    public static void testOtherTypes() {
        UUID id = UUID.randomUUID();
        eq(id, read("\"" + id + "\"", UUID.class));
        eq(Instant.ofEpochSecond(1700000000, 500000000), read("1700000000.5", Instant.class));
        eq(Instant.ofEpochSecond(1700000000), read("\"2023-11-14T22:13:20Z\"", Instant.class));
        eq(LocalDate.of(2024, 1, 15), read("\"2024-01-15\"", LocalDate.class));
        eq(LocalDate.of(2024, 1, 15), read("[2024,1,15]", LocalDate.class));
        eq(LocalDateTime.of(2024, 1, 15, 10, 30), read("\"2024-01-15T10:30:00\"", LocalDateTime.class));
        eq(OffsetDateTime.parse("2024-01-15T10:30:00+02:00"), read("\"2024-01-15T10:30:00+02:00\"", OffsetDateTime.class));
        eq(Duration.ofMinutes(90), read("\"PT1H30M\"", Duration.class));
        eq(new Date(1700000000123L), read("1700000000123", Date.class));
        eq(new Date(1700000000000L), read("\"2023-11-14T22:13:20.000+0000\"", Date.class));
    }

    public static void testEventsClassesMatchNamesIgnoringCase() {
        com.amazonaws.services.lambda.runtime.events.SQSEvent e = (com.amazonaws.services.lambda.runtime.events.SQSEvent)
                read("{\"Records\":[{\"messageId\":\"m1\",\"body\":\"hi\",\"eventSource\":\"aws:sqs\"}]}",
                        com.amazonaws.services.lambda.runtime.events.SQSEvent.class);
        eq("m1", e.getRecords().get(0).getMessageId());
        eq("aws:sqs", e.getRecords().get(0).getEventSource());
        // Other classes match names exactly (ACCEPT_CASE_INSENSITIVE_PROPERTIES is off).
        eq(null, ((Order) read("{\"ID\":\"x\"}", Order.class)).getId());
    }

    public static void testPublicFinalFieldsAreWritten() {
        testfn.Constants c = (testfn.Constants) read("{\"name\":\"set\",\"count\":2}", testfn.Constants.class);
        eq("set", c.name);
        eq(2, c.count);
    }

    // ---- writing ----

    private static String write(Object v) {
        return Mapper.toJson(v);
    }

    public static void testWritesScalars() {
        eq("null", write(null));
        eq("\"hi\"", write("hi"));
        eq("42", write(42));
        eq("42", write(42L));
        eq("1.0", write(1.0));
        eq("1.0E10", write(1e10));
        eq("0.1", write(0.1f));
        eq("\"NaN\"", write(Double.NaN));
        eq("1.50", write(new BigDecimal("1.50")));
        eq("1E+3", write(new BigDecimal("1E+3")));
        eq("true", write(true));
        eq("\"c\"", write('c'));
        eq("\"SHIPPED\"", write(Order.Status.SHIPPED));
        eq("\"aGk=\"", write("hi".getBytes()));
        eq("[1,2]", write(new int[] {1, 2}));
        eq("\"ab\"", write(new char[] {'a', 'b'}));
    }

    public static void testWritesContainersLeavingNullMapValuesOut() {
        Map<Object, Object> m = new LinkedHashMap<>();
        m.put("a", 1);
        m.put("skip", null);
        m.put(Order.Status.NEW, Arrays.asList("x", null));
        m.put(3, Optional.of("o"));
        eq("{\"a\":1,\"NEW\":[\"x\",null],\"3\":\"o\"}", write(m));
        eq("[]", write(new ArrayList<>()));
    }

    public static void testWritesBeansInJacksonOrderWithoutNulls() {
        Order o = new Order();
        o.setId("o-1");
        o.setQuantity(2);
        o.setURL("u");
        Order.Item item = new Order.Item();
        item.sku = "A";
        item.cache = "transient";
        o.setItems(Arrays.asList(item));
        eq("{\"id\":\"o-1\",\"quantity\":2,\"paid\":false,\"items\":[{\"sku\":\"A\",\"weight\":0.0}],\"URL\":\"u\","
                + "\"summary\":\"o-1x2\"}", write(o));
        eq("{}", write(new Object()));
    }

    public static void testWritesRecords() {
        eq("{\"x\":1,\"y\":2,\"label\":\"p\"}", write(new Point(1, 2, "p")));
        eq("{\"x\":1,\"y\":2}", write(new Point(1, 2, null)));
    }

    public static void testWritesDatesAsJacksonTimestamps() {
        eq("1700000000.500000000", write(Instant.ofEpochSecond(1700000000, 500000000)));
        eq("[2024,1,15]", write(LocalDate.of(2024, 1, 15)));
        eq("[2024,1,15,10,30]", write(LocalDateTime.of(2024, 1, 15, 10, 30)));
        eq("[2024,1,15,10,30,5]", write(LocalDateTime.of(2024, 1, 15, 10, 30, 5)));
        eq("5400.000000000", write(Duration.ofMinutes(90)));
        eq("1700000000123", write(new Date(1700000000123L)));
    }

    public static void testCyclesAreRefused() {
        List<Object> self = new ArrayList<>();
        self.add(self);
        raises(JsonException.class, () -> write(self));
    }

    public static void testRoundTripOfABean() {
        String json = "{\"id\":\"r\",\"quantity\":1,\"price\":2.5,\"paid\":true,\"counts\":{\"k\":3},\"status\":\"NEW\"}";
        Order o = (Order) read(json, Order.class);
        eq("{\"id\":\"r\",\"quantity\":1,\"price\":2.5,\"paid\":true,\"counts\":{\"k\":3},\"status\":\"NEW\",\"summary\":\"rx1\"}",
                write(o));
    }
}
