package lambdabox.ric.json;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Date;
import java.util.GregorianCalendar;
import java.util.List;
import java.util.TimeZone;

/**
 * Dates and times as AWS's serializer writes and reads them (Jackson with its
 * {@code JavaTimeModule}, dates as timestamps): {@code Instant}, {@code OffsetDateTime},
 * {@code ZonedDateTime} and {@code Duration} as decimal seconds ({@code 1700000000.000000000}),
 * {@code LocalDate}/{@code LocalDateTime}/{@code LocalTime} as arrays ({@code [2024,1,15]}),
 * {@code java.util.Date} and {@code Calendar} as epoch milliseconds; read from those forms or
 * from ISO-8601 strings.
 */
final class TimeCodec {
    private TimeCodec() {}

    static boolean handles(Class<?> c) {
        return c == Instant.class || c == LocalDate.class || c == LocalDateTime.class || c == LocalTime.class
                || c == OffsetDateTime.class || c == ZonedDateTime.class || c == Duration.class || c == Period.class
                || c == Year.class || c == YearMonth.class || c == MonthDay.class || ZoneId.class.isAssignableFrom(c)
                || Date.class.isAssignableFrom(c) || Calendar.class.isAssignableFrom(c)
                || TimeZone.class.isAssignableFrom(c);
    }

    // ---- writing ----

    static void write(StringBuilder out, Object v) {
        if (v instanceof Instant) {
            Instant i = (Instant) v;
            out.append(seconds(i.getEpochSecond(), i.getNano()));
        } else if (v instanceof OffsetDateTime) {
            Instant i = ((OffsetDateTime) v).toInstant();
            out.append(seconds(i.getEpochSecond(), i.getNano()));
        } else if (v instanceof ZonedDateTime) {
            Instant i = ((ZonedDateTime) v).toInstant();
            out.append(seconds(i.getEpochSecond(), i.getNano()));
        } else if (v instanceof Duration) {
            Duration d = (Duration) v;
            out.append(seconds(d.getSeconds(), d.getNano()));
        } else if (v instanceof LocalDate) {
            LocalDate d = (LocalDate) v;
            out.append('[').append(d.getYear()).append(',').append(d.getMonthValue()).append(',')
                    .append(d.getDayOfMonth()).append(']');
        } else if (v instanceof LocalDateTime) {
            LocalDateTime d = (LocalDateTime) v;
            out.append('[').append(d.getYear()).append(',').append(d.getMonthValue()).append(',')
                    .append(d.getDayOfMonth()).append(',');
            appendTime(out, d.toLocalTime());
            out.append(']');
        } else if (v instanceof LocalTime) {
            out.append('[');
            appendTime(out, (LocalTime) v);
            out.append(']');
        } else if (v instanceof Year) {
            out.append(((Year) v).getValue());
        } else if (v instanceof YearMonth) {
            YearMonth ym = (YearMonth) v;
            out.append('[').append(ym.getYear()).append(',').append(ym.getMonthValue()).append(']');
        } else if (v instanceof Date) {
            out.append(((Date) v).getTime());
        } else if (v instanceof Calendar) {
            out.append(((Calendar) v).getTimeInMillis());
        } else if (v instanceof TimeZone) {
            JsonWriter.writeString(out, ((TimeZone) v).getID(), JsonWriter.Style.JACKSON);
        } else {
            // Period, MonthDay, ZoneId, ZoneOffset: their ISO text.
            JsonWriter.writeString(out, v.toString(), JsonWriter.Style.JACKSON);
        }
    }

    private static void appendTime(StringBuilder out, LocalTime t) {
        out.append(t.getHour()).append(',').append(t.getMinute());
        if (t.getSecond() > 0 || t.getNano() > 0) {
            out.append(',').append(t.getSecond());
            if (t.getNano() > 0) {
                out.append(',').append(t.getNano());
            }
        }
    }

    private static String seconds(long seconds, int nanos) {
        return BigDecimal.valueOf(seconds).add(BigDecimal.valueOf(nanos, 9)).setScale(9).toString();
    }

    // ---- reading ----

    static Object read(Object node, Class<?> c) {
        try {
            if (node instanceof List) {
                return fromArray((List<?>) node, c);
            }
            if (node instanceof JsonNumber) {
                return fromNumber((JsonNumber) node, c);
            }
            if (node instanceof String) {
                String s = ((String) node).trim();
                if (s.isEmpty()) {
                    return null;
                }
                if (isNumeric(s) && (c == Instant.class || c == Duration.class || Date.class.isAssignableFrom(c)
                        || Calendar.class.isAssignableFrom(c) || c == Year.class)) {
                    return fromNumber(new JsonNumber(s), c);
                }
                return fromString(s, c);
            }
        } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
            throw new JsonException("Cannot deserialize value of type `" + c.getName() + "` from "
                    + Mapper.describe(node) + ": " + e.getMessage(), e);
        }
        throw new JsonException("Cannot deserialize value of type `" + c.getName() + "` from " + Mapper.describe(node));
    }

    private static boolean isNumeric(String s) {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (!(ch >= '0' && ch <= '9') && !(i == 0 && ch == '-') && ch != '.') {
                return false;
            }
        }
        return true;
    }

    private static Object fromNumber(JsonNumber n, Class<?> c) {
        if (c == Year.class) {
            return Year.of(n.intValue());
        }
        if (Date.class.isAssignableFrom(c) || Calendar.class.isAssignableFrom(c)) {
            long millis = n.isIntegral() ? n.longValue() : n.bigDecimalValue().longValue();
            return date(millis, c);
        }
        BigDecimal d = n.bigDecimalValue();
        long seconds = d.longValue();
        int nanos = d.subtract(BigDecimal.valueOf(seconds)).movePointRight(9).intValue();
        if (c == Instant.class) {
            return Instant.ofEpochSecond(seconds, nanos);
        }
        if (c == Duration.class) {
            return Duration.ofSeconds(seconds, nanos);
        }
        if (c == OffsetDateTime.class) {
            return OffsetDateTime.ofInstant(Instant.ofEpochSecond(seconds, nanos), ZoneOffset.UTC);
        }
        if (c == ZonedDateTime.class) {
            return ZonedDateTime.ofInstant(Instant.ofEpochSecond(seconds, nanos), ZoneOffset.UTC);
        }
        throw new JsonException("Cannot deserialize value of type `" + c.getName() + "` from Integer value");
    }

    private static Object fromArray(List<?> a, Class<?> c) {
        List<Integer> v = new ArrayList<>();
        for (Object o : a) {
            if (!(o instanceof JsonNumber)) {
                throw new JsonException("Cannot deserialize value of type `" + c.getName() + "` from Array value: expected numbers");
            }
            v.add(((JsonNumber) o).intValue());
        }
        if (c == LocalDate.class && v.size() == 3) {
            return LocalDate.of(v.get(0), v.get(1), v.get(2));
        }
        if (c == LocalDateTime.class && v.size() >= 5) {
            return LocalDateTime.of(LocalDate.of(v.get(0), v.get(1), v.get(2)), time(v.subList(3, v.size())));
        }
        if (c == LocalTime.class && v.size() >= 2) {
            return time(v);
        }
        if (c == YearMonth.class && v.size() == 2) {
            return YearMonth.of(v.get(0), v.get(1));
        }
        throw new JsonException("Cannot deserialize value of type `" + c.getName() + "` from Array value");
    }

    private static LocalTime time(List<Integer> v) {
        return LocalTime.of(v.get(0), v.get(1), v.size() > 2 ? v.get(2) : 0, v.size() > 3 ? v.get(3) : 0);
    }

    private static Object fromString(String s, Class<?> c) {
        if (c == Instant.class) {
            return DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(s, Instant::from);
        }
        if (c == LocalDate.class) {
            return LocalDate.parse(s.length() > 10 && s.charAt(10) == 'T' ? s.substring(0, 10) : s);
        }
        if (c == LocalDateTime.class) {
            return LocalDateTime.parse(s.endsWith("Z") ? s.substring(0, s.length() - 1) : s);
        }
        if (c == LocalTime.class) {
            return LocalTime.parse(s);
        }
        if (c == OffsetDateTime.class) {
            return OffsetDateTime.parse(s);
        }
        if (c == ZonedDateTime.class) {
            return ZonedDateTime.parse(s);
        }
        if (c == Duration.class) {
            return Duration.parse(s);
        }
        if (c == Period.class) {
            return Period.parse(s);
        }
        if (c == Year.class) {
            return Year.parse(s);
        }
        if (c == YearMonth.class) {
            return YearMonth.parse(s);
        }
        if (c == MonthDay.class) {
            return MonthDay.parse(s);
        }
        if (c == ZoneOffset.class) {
            return ZoneOffset.of(s);
        }
        if (ZoneId.class.isAssignableFrom(c)) {
            return ZoneId.of(s);
        }
        if (TimeZone.class.isAssignableFrom(c)) {
            return TimeZone.getTimeZone(s);
        }
        // java.util.Date and Calendar: ISO-8601, with or without time and zone (UTC when absent).
        Instant instant;
        if (s.length() == 10) {
            instant = LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant();
        } else {
            try {
                instant = OffsetDateTime.parse(normalizeOffset(s)).toInstant();
            } catch (DateTimeParseException e) {
                instant = LocalDateTime.parse(s).toInstant(ZoneOffset.UTC);
            }
        }
        return date(instant.toEpochMilli(), c);
    }

    /** {@code +0000} as {@code +00:00}, which {@code ISO_OFFSET_DATE_TIME} wants. */
    private static String normalizeOffset(String s) {
        int n = s.length();
        if (n > 5 && (s.charAt(n - 5) == '+' || s.charAt(n - 5) == '-') && s.indexOf(':', n - 5) < 0) {
            return s.substring(0, n - 2) + ":" + s.substring(n - 2);
        }
        return s;
    }

    private static Object date(long millis, Class<?> c) {
        if (Calendar.class.isAssignableFrom(c)) {
            Calendar cal = new GregorianCalendar(TimeZone.getTimeZone("UTC"));
            cal.setTimeInMillis(millis);
            return cal;
        }
        if (c == Date.class) {
            return new Date(millis);
        }
        try {
            return c.getConstructor(long.class).newInstance(millis); // java.sql.Timestamp, java.sql.Date
        } catch (ReflectiveOperationException e) {
            return new Date(millis);
        }
    }
}
