package testfn;

/** Public final fields are written through, as Jackson's ALLOW_FINAL_FIELDS_AS_MUTATORS does. */
public class Constants {
    public final String name;

    public Constants() {
        name = "default";
    }
    public int count;
}
