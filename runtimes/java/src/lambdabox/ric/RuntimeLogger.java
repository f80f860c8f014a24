package lambdabox.ric;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.logging.LogFormat;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;

import lambdabox.ric.json.JsonWriter;

/**
 * The runtime's {@link LambdaLogger}, as AWS's: messages below {@code AWS_LAMBDA_LOG_LEVEL} are
 * dropped ({@code log(String)} is never dropped); in TEXT format a message is written as it is,
 * prefixed by {@code [LEVEL] } when it has a level; in JSON format each message is one line
 * {@code {"timestamp", "message", "level", "AWSRequestId"}}. Bytes are never formatted.
 * Everything goes to standard output, which the execution environment captures.
 */
public final class RuntimeLogger implements LambdaLogger {
    private static final byte[] NULL_BYTES = "null".getBytes(StandardCharsets.UTF_8);
    private static DateTimeFormatter timestamps;

    private final OutputStream sink;
    private final LogLevel minimum;
    private final LogFormat format;
    private volatile String requestId;
    private volatile String tenantId;

    public RuntimeLogger(OutputStream sink, LogLevel minimum, LogFormat format) {
        this.sink = sink;
        this.minimum = minimum;
        this.format = format;
    }

    public LogFormat format() {
        return format;
    }

    /** The invocation the JSON records name. */
    public void setInvocation(String requestId, String tenantId) {
        this.requestId = requestId;
        this.tenantId = tenantId;
    }

    private boolean enabled(LogLevel level) {
        return level == LogLevel.UNDEFINED || level.ordinal() >= minimum.ordinal();
    }

    @Override
    public void log(String message) {
        log(message, LogLevel.UNDEFINED);
    }

    @Override
    public void log(byte[] message) {
        log(message, LogLevel.UNDEFINED);
    }

    @Override
    public void log(String message, LogLevel level) {
        if (level == null) {
            level = LogLevel.UNDEFINED;
        }
        if (!enabled(level)) {
            return;
        }
        String text = message == null ? "null" : message;
        if (format == LogFormat.JSON) {
            text = json(text, level);
        } else if (level != LogLevel.UNDEFINED) {
            text = "[" + level + "] " + text;
        }
        write(text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void log(byte[] message, LogLevel level) {
        if (enabled(level == null ? LogLevel.UNDEFINED : level)) {
            write(message == null ? NULL_BYTES : message);
        }
    }

    private String json(String message, LogLevel level) {
        if (timestamps == null) {
            timestamps = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
        }
        StringBuilder sb = new StringBuilder(message.length() + 128);
        sb.append("{\"timestamp\":");
        JsonWriter.writeString(sb, timestamps.format(Instant.now()), JsonWriter.Style.GSON);
        sb.append(",\"message\":");
        JsonWriter.writeString(sb, message, JsonWriter.Style.GSON);
        sb.append(",\"level\":\"").append(level).append('"');
        String id = requestId;
        if (id != null) {
            sb.append(",\"AWSRequestId\":");
            JsonWriter.writeString(sb, id, JsonWriter.Style.GSON);
        }
        String tenant = tenantId;
        if (tenant != null) {
            sb.append(",\"tenantId\":");
            JsonWriter.writeString(sb, tenant, JsonWriter.Style.GSON);
        }
        return sb.append("}\n").toString();
    }

    private synchronized void write(byte[] bytes) {
        try {
            sink.write(bytes);
            sink.flush();
        } catch (IOException e) {
            e.printStackTrace();
        }
    }
}
