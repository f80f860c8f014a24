package lambdabox.ric.json;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * A JSON number as written, so that converting it to a {@code BigDecimal}, a {@code long} or a
 * {@code double} loses nothing that the target type could hold. Produced by
 * {@link JsonReader} in {@code exactNumbers} mode.
 */
public final class JsonNumber extends Number {
    private static final long serialVersionUID = 1L;

    private final String text;
    private final boolean integral;

    public JsonNumber(String text) {
        this.text = text;
        this.integral = text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0;
    }

    /** The literal, as it appeared in the document. */
    public String text() {
        return text;
    }

    /** Whether the literal has no fraction and no exponent. */
    public boolean isIntegral() {
        return integral;
    }

    public BigDecimal bigDecimalValue() {
        return new BigDecimal(text);
    }

    public BigInteger bigIntegerValue() {
        return integral ? new BigInteger(text) : bigDecimalValue().toBigInteger();
    }

    /**
     * The value as Jackson's untyped deserializer gives it: an {@code Integer} when it fits,
     * else a {@code Long}, else a {@code BigInteger}; a {@code Double} for a fraction or exponent.
     */
    public Number naturalValue() {
        if (!integral) {
            return Double.valueOf(text);
        }
        int digits = text.length() - (text.charAt(0) == '-' ? 1 : 0);
        if (digits <= 9) {
            return Integer.valueOf(text);
        }
        if (digits <= 18) {
            long v = Long.parseLong(text);
            return v == (int) v ? Integer.valueOf((int) v) : (Number) Long.valueOf(v);
        }
        BigInteger big = new BigInteger(text);
        if (big.bitLength() < 32) {
            return big.intValue();
        }
        return big.bitLength() < 64 ? (Number) big.longValue() : big;
    }

    @Override
    public int intValue() {
        return (int) longValue();
    }

    @Override
    public long longValue() {
        if (integral && text.length() <= 18) {
            return Long.parseLong(text);
        }
        return integral ? new BigInteger(text).longValue() : (long) doubleValue();
    }

    @Override
    public float floatValue() {
        return Float.parseFloat(text);
    }

    @Override
    public double doubleValue() {
        return Double.parseDouble(text);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JsonNumber && ((JsonNumber) o).text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
