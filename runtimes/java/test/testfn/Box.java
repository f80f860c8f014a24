package testfn;

import java.util.List;

/** Generic containers: type variables resolved through the parameterized type and a subclass. */
public class Box<T> {
    private T value;
    private List<T> values;

    public T getValue() {
        return value;
    }

    public void setValue(T value) {
        this.value = value;
    }

    public List<T> getValues() {
        return values;
    }

    public void setValues(List<T> values) {
        this.values = values;
    }

    /** Binds T through the superclass. */
    public static class PointBox extends Box<Point> {}
}
