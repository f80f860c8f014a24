package testfn;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;

import com.amazonaws.services.lambda.runtime.CustomPojoSerializer;

/** A CustomPojoSerializer: the whole event as a String, the result upper-cased and unquoted. */
public class UpperSerializer implements CustomPojoSerializer {
    @Override
    @SuppressWarnings("unchecked")
    public <T> T fromJson(InputStream input, Type type) {
        try {
            return (T) new String(input.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T fromJson(String input, Type type) {
        return (T) input;
    }

    @Override
    public <T> void toJson(T value, OutputStream output, Type type) {
        try {
            output.write(String.valueOf(value).toUpperCase().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
