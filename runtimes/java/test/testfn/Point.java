package testfn;

/** A record, as in AWS's Java 17 handler example. */
public record Point(int x, int y, String label) {}
