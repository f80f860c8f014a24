package lambdabox.ric.json;

/** Malformed JSON, or JSON that does not fit the type it is converted to. */
public class JsonException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JsonException(String message) {
        super(message);
    }

    public JsonException(String message, Throwable cause) {
        super(message, cause);
    }
}
