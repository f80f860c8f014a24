package lambdabox.ric;

import static lambdabox.ric.Assert.eq;
import static lambdabox.ric.Assert.raises;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import lambdabox.ric.json.JsonException;
import lambdabox.ric.json.JsonNumber;
import lambdabox.ric.json.JsonReader;
import lambdabox.ric.json.JsonWriter;

/** The JSON parser and writer. */
public final class JsonTest {
    private JsonTest() {}

    private static Object parse(String s) {
        return JsonReader.parse(s, false);
    }

    public static void testScalars() {
        eq(null, parse("null"));
        eq(Boolean.TRUE, parse("true"));
        eq(Boolean.FALSE, parse(" false "));
        eq("x", parse("\"x\""));
        eq(1, parse("1"));
        eq(-7, parse("-7"));
        eq(0, parse("0"));
        eq(2147483647, parse("2147483647"));
        eq(2147483648L, parse("2147483648"));
        eq(-2147483649L, parse("-2147483649"));
        eq(new BigInteger("12345678901234567890"), parse("12345678901234567890"));
        eq(1.5, parse("1.5"));
        eq(1e3, parse("1e3"));
        eq(-2.5e-3, parse("-2.5E-3"));
    }

    public static void testContainersKeepOrderAndLastDuplicateWins() {
        Object v = parse("{\"b\":1,\"a\":[1,\"two\",null,{}],\"b\":3}");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("b", 3);
        expected.put("a", Arrays.asList(1, "two", null, new LinkedHashMap<>()));
        eq(expected, v);
        eq(Arrays.asList("b", "a"), Arrays.asList(((Map<?, ?>) v).keySet().toArray()));
        eq(Arrays.asList(), parse("[ ]"));
        eq(new LinkedHashMap<>(), parse(" { } "));
    }

    public static void testStringEscapes() {
        eq("a\"b\\c/d\b\f\n\r\t", parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""));
        eq("\u00e9\u20ac\ud83d\ude00", parse("\"\\u00e9\\u20AC\\ud83d\\ude00\""));
        eq("h\u00e9llo \ud83d\ude00", parse("\"h\u00e9llo \ud83d\ude00\""));
    }

    public static void testExactNumbersKeepTheLiteral() {
        Object v = JsonReader.parse("[1.50, 10000000000000000000001, -0.0]", true);
        List<?> list = (List<?>) v;
        eq(new JsonNumber("1.50"), list.get(0));
        eq("10000000000000000000001", ((JsonNumber) list.get(1)).text());
        eq("-0.0", list.get(2).toString());
    }

    public static void testByteOrderMarkIsSkipped() {
        eq(1, parse("\uFEFF1"));
    }

    public static void testMalformedDocumentsAreRefused() {
        String[] bad = {
            "", "   ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "{a:1}", "01", "1.", ".5", "-", "1e", "tru", "nul",
            "\"abc", "\"\\x\"", "\"\\u12g4\"", "[1 2]", "{\"a\" 1}", "1 2", "NaN", "\"a\nb\"", "[1]]", "truex",
        };
        for (String s : bad) {
            raises(JsonException.class, () -> parse(s));
        }
    }

    public static void testErrorsNameTheLineAndColumn() {
        JsonException e = raises(JsonException.class, () -> parse("{\n  \"a\": x}"));
        Assert.contains(e.getMessage(), "line: 2, column: 8");
    }

    public static void testNestingIsLimited() {
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 1001; i++) {
            deep.append('[');
        }
        JsonException e = raises(JsonException.class, () -> parse(deep.toString()));
        Assert.contains(e.getMessage(), "nesting depth");
        StringBuilder ok = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            ok.append('[');
        }
        for (int i = 0; i < 1000; i++) {
            ok.append(']');
        }
        parse(ok.toString());
    }

    public static void testWriterEscapesLikeJackson() {
        StringBuilder sb = new StringBuilder();
        JsonWriter.writeString(sb, "q\"b\\s/\b\f\n\r\t\u0001\u001f\u007f\u00e9\u2028", JsonWriter.Style.JACKSON);
        eq("\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001F\u007f\u00e9\u2028\"", sb.toString());
    }

    public static void testWriterEscapesLikeGson() {
        StringBuilder sb = new StringBuilder();
        JsonWriter.writeString(sb, "<a>&'=\u0001\u001f\u2028\u2029", JsonWriter.Style.GSON);
        eq("\"<a>&'=\\u0001\\u001f\\u2028\\u2029\"", sb.toString());
    }

    public static void testWriterWritesTrees() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "x");
        m.put("n", 1);
        m.put("d", 1.0);
        m.put("big", 1e20);
        m.put("nan", Double.NaN);
        m.put("l", Arrays.asList(true, null));
        eq("{\"s\":\"x\",\"n\":1,\"d\":1.0,\"big\":1.0E20,\"nan\":\"NaN\",\"l\":[true,null]}",
                JsonWriter.write(m, JsonWriter.Style.JACKSON));
    }

    public static void testRoundTrip() {
        String doc = "{\"a\":[1,2.5,\"x\\ny\",{\"b\":null,\"c\":false}],\"d\":\"\u00e9\"}";
        eq(doc, JsonWriter.write(parse(doc), JsonWriter.Style.JACKSON));
    }
}
