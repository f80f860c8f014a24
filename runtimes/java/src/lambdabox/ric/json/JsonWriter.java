package lambdabox.ric.json;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes JSON text: string escaping in the two styles the runtime needs, and whole trees of
 * plain values ({@code null}, {@code Boolean}, {@code String}, numbers, {@code List},
 * {@code Map}). Objects of other types are the {@link Mapper}'s business.
 */
public final class JsonWriter {
    private static final char[] HEX_UPPER = "0123456789ABCDEF".toCharArray();
    private static final char[] HEX_LOWER = "0123456789abcdef".toCharArray();

    private JsonWriter() {}

    /** How strings are escaped. */
    public enum Style {
        /** Jackson's (function results): {@code \b \t \n \f \r}, other controls as <code>\\u00XX</code>. */
        JACKSON,
        /** Gson's (the runtime's error documents): controls as <code>\\u00xx</code>, and U+2028, U+2029 escaped. */
        GSON
    }

    /** Appends {@code s} as a quoted JSON string. */
    public static void writeString(StringBuilder out, String s, Style style) {
        out.append('"');
        int len = s.length();
        int run = 0;
        for (int i = 0; i < len; i++) {
            char c = s.charAt(i);
            String escape = null;
            if (c < 0x20 || c == '"' || c == '\\' || (style == Style.GSON && (c == '\u2028' || c == '\u2029'))) {
                escape = escape(c, style);
            }
            if (escape != null) {
                out.append(s, run, i).append(escape);
                run = i + 1;
            }
        }
        out.append(s, run, len).append('"');
    }

    private static String escape(char c, Style style) {
        switch (c) {
            case '"':
                return "\\\"";
            case '\\':
                return "\\\\";
            case '\b':
                return "\\b";
            case '\t':
                return "\\t";
            case '\n':
                return "\\n";
            case '\f':
                return "\\f";
            case '\r':
                return "\\r";
            default:
                char[] hex = style == Style.GSON ? HEX_LOWER : HEX_UPPER;
                return new String(new char[] {
                    '\\', 'u', hex[(c >> 12) & 0xF], hex[(c >> 8) & 0xF], hex[(c >> 4) & 0xF], hex[c & 0xF]
                });
        }
    }

    /** The JSON text of a tree of plain values. */
    public static String write(Object value, Style style) {
        StringBuilder sb = new StringBuilder();
        writeValue(sb, value, style);
        return sb.toString();
    }

    /** Appends a tree of plain values. */
    public static void writeValue(StringBuilder out, Object value, Style style) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof String) {
            writeString(out, (String) value, style);
        } else if (value instanceof Boolean) {
            out.append(((Boolean) value).booleanValue());
        } else if (value instanceof Number) {
            writeNumber(out, (Number) value);
        } else if (value instanceof Map) {
            out.append('{');
            Iterator<? extends Map.Entry<?, ?>> it = ((Map<?, ?>) value).entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                writeString(out, String.valueOf(e.getKey()), style);
                out.append(':');
                writeValue(out, e.getValue(), style);
                if (it.hasNext()) {
                    out.append(',');
                }
            }
            out.append('}');
        } else if (value instanceof List) {
            out.append('[');
            List<?> list = (List<?>) value;
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                writeValue(out, list.get(i), style);
            }
            out.append(']');
        } else if (value instanceof Object[]) {
            out.append('[');
            Object[] array = (Object[]) value;
            for (int i = 0; i < array.length; i++) {
                if (i > 0) {
                    out.append(',');
                }
                writeValue(out, array[i], style);
            }
            out.append(']');
        } else {
            writeString(out, value.toString(), style);
        }
    }

    /**
     * Appends a number as Jackson writes it: integers in full, {@code double} and {@code float}
     * by {@code toString} ({@code 1.0E10}), NaN and the infinities as strings, {@code BigDecimal}
     * by {@code toString} ({@code 1E+10}).
     */
    public static void writeNumber(StringBuilder out, Number n) {
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                out.append('"').append(n.toString()).append('"');
                return;
            }
        }
        out.append(n.toString());
    }
}
