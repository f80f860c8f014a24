package lambdabox.ric.json;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON (RFC 8259) parser producing plain Java values: {@code null}, {@code Boolean},
 * {@code String}, numbers, {@code ArrayList} for arrays and {@code LinkedHashMap} (document
 * order; a repeated key keeps its last value) for objects.
 *
 * <p>Numbers are {@link JsonNumber}s when {@code exactNumbers} is set (what the
 * {@link Mapper} converts from), else their natural type ({@link JsonNumber#naturalValue()}).
 * Nesting deeper than {@link #MAX_DEPTH} is refused rather than overflowing the stack.
 */
public final class JsonReader {
    /** Jackson's default nesting limit. */
    public static final int MAX_DEPTH = 1000;

    private final String s;
    private final boolean exactNumbers;
    private int pos;
    private int depth;

    private JsonReader(String s, boolean exactNumbers) {
        this.s = s;
        this.exactNumbers = exactNumbers;
    }

    /** Parses a whole document: one value, surrounded by nothing but whitespace. */
    public static Object parse(String text, boolean exactNumbers) {
        JsonReader r = new JsonReader(text, exactNumbers);
        if (text.startsWith("\uFEFF")) {
            r.pos = 1;
        }
        r.skipWhitespace();
        if (r.pos >= text.length()) {
            throw r.error("No content to map due to end-of-input");
        }
        Object value = r.readValue();
        r.skipWhitespace();
        if (r.pos < text.length()) {
            throw r.error("Unexpected character " + r.describe(text.charAt(r.pos)) + " after the JSON value");
        }
        return value;
    }

    /** Parses UTF-8 bytes (see {@link #parse(String, boolean)}). */
    public static Object parse(byte[] utf8, boolean exactNumbers) {
        return parse(new String(utf8, StandardCharsets.UTF_8), exactNumbers);
    }

    private JsonException error(String message) {
        int line = 1;
        int column = 1;
        for (int i = 0; i < pos && i < s.length(); i++) {
            if (s.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new JsonException(message + " at line: " + line + ", column: " + column);
    }

    private String describe(char c) {
        if (c < 0x20) {
            return "(CTRL-CHAR, code " + (int) c + ")";
        }
        return "('" + c + "' (code " + (int) c + "))";
    }

    private void skipWhitespace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                pos++;
            } else {
                break;
            }
        }
    }

    private Object readValue() {
        if (pos >= s.length()) {
            throw error("Unexpected end-of-input");
        }
        char c = s.charAt(pos);
        switch (c) {
            case '{':
                return readObject();
            case '[':
                return readArray();
            case '"':
                return readString();
            case 't':
                expectWord("true");
                return Boolean.TRUE;
            case 'f':
                expectWord("false");
                return Boolean.FALSE;
            case 'n':
                expectWord("null");
                return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return readNumber();
                }
                throw error("Unexpected character " + describe(c) + ": expected a JSON value");
        }
    }

    private void expectWord(String word) {
        if (!s.startsWith(word, pos)) {
            throw error("Unrecognized token: expected '" + word + "'");
        }
        pos += word.length();
        if (pos < s.length() && Character.isLetterOrDigit(s.charAt(pos))) {
            throw error("Unrecognized token: expected '" + word + "'");
        }
    }

    private void enter() {
        if (++depth > MAX_DEPTH) {
            throw error("Document nesting depth exceeds the maximum allowed (" + MAX_DEPTH + ")");
        }
    }

    private Map<String, Object> readObject() {
        enter();
        pos++; // {
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (pos < s.length() && s.charAt(pos) == '}') {
            pos++;
            depth--;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (pos >= s.length() || s.charAt(pos) != '"') {
                throw error("Unexpected character: expected a double-quoted field name");
            }
            String key = readString();
            skipWhitespace();
            if (pos >= s.length() || s.charAt(pos) != ':') {
                throw error("Unexpected character: expected a colon to separate field name and value");
            }
            pos++;
            skipWhitespace();
            map.put(key, readValue());
            skipWhitespace();
            if (pos >= s.length()) {
                throw error("Unexpected end-of-input: expected close marker for Object");
            }
            char c = s.charAt(pos++);
            if (c == '}') {
                depth--;
                return map;
            }
            if (c != ',') {
                pos--;
                throw error("Unexpected character " + describe(c) + ": was expecting comma to separate Object entries");
            }
        }
    }

    private List<Object> readArray() {
        enter();
        pos++; // [
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (pos < s.length() && s.charAt(pos) == ']') {
            pos++;
            depth--;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(readValue());
            skipWhitespace();
            if (pos >= s.length()) {
                throw error("Unexpected end-of-input: expected close marker for Array");
            }
            char c = s.charAt(pos++);
            if (c == ']') {
                depth--;
                return list;
            }
            if (c != ',') {
                pos--;
                throw error("Unexpected character " + describe(c) + ": was expecting comma to separate Array entries");
            }
        }
    }

    private String readString() {
        pos++; // opening quote
        int start = pos;
        // Fast path: no escapes.
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '"') {
                return s.substring(start, pos++);
            }
            if (c == '\\' || c < 0x20) {
                break;
            }
            pos++;
        }
        StringBuilder sb = new StringBuilder(pos - start + 16);
        sb.append(s, start, pos);
        while (pos < s.length()) {
            char c = s.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                pos--;
                throw error("Illegal unquoted character " + describe(c) + ": has to be escaped using backslash to be included in string value");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= s.length()) {
                break;
            }
            char e = s.charAt(pos++);
            switch (e) {
                case '"':
                    sb.append('"');
                    break;
                case '\\':
                    sb.append('\\');
                    break;
                case '/':
                    sb.append('/');
                    break;
                case 'b':
                    sb.append('\b');
                    break;
                case 'f':
                    sb.append('\f');
                    break;
                case 'n':
                    sb.append('\n');
                    break;
                case 'r':
                    sb.append('\r');
                    break;
                case 't':
                    sb.append('\t');
                    break;
                case 'u':
                    if (pos + 4 > s.length()) {
                        throw error("Unexpected end-of-input in a \\u escape");
                    }
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(s.charAt(pos++), 16);
                        if (d < 0) {
                            pos--;
                            throw error("Unexpected character in a \\u escape: expected a hex-digit");
                        }
                        code = code * 16 + d;
                    }
                    sb.append((char) code);
                    break;
                default:
                    pos--;
                    throw error("Unrecognized character escape " + describe(e));
            }
        }
        throw error("Unexpected end-of-input: was expecting closing quote for a string value");
    }

    private Object readNumber() {
        int start = pos;
        if (s.charAt(pos) == '-') {
            pos++;
        }
        if (pos >= s.length() || !isDigit(s.charAt(pos))) {
            throw error("Invalid numeric value: expected a digit");
        }
        if (s.charAt(pos) == '0' && pos + 1 < s.length() && isDigit(s.charAt(pos + 1))) {
            throw error("Invalid numeric value: Leading zeroes not allowed");
        }
        while (pos < s.length() && isDigit(s.charAt(pos))) {
            pos++;
        }
        if (pos < s.length() && s.charAt(pos) == '.') {
            pos++;
            if (pos >= s.length() || !isDigit(s.charAt(pos))) {
                throw error("Invalid numeric value: Decimal point not followed by a digit");
            }
            while (pos < s.length() && isDigit(s.charAt(pos))) {
                pos++;
            }
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            pos++;
            if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                pos++;
            }
            if (pos >= s.length() || !isDigit(s.charAt(pos))) {
                throw error("Invalid numeric value: Exponent indicator not followed by a digit");
            }
            while (pos < s.length() && isDigit(s.charAt(pos))) {
                pos++;
            }
        }
        JsonNumber n = new JsonNumber(s.substring(start, pos));
        return exactNumbers ? n : n.naturalValue();
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
