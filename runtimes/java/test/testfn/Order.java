package testfn;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/** A bean: private fields, getters and setters. */
public class Order {
    private String id;
    private int quantity;
    private BigDecimal price;
    private boolean paid;
    private List<Item> items;
    private Map<String, Integer> counts;
    private Status status;
    private String secret;
    private String URL;

    public enum Status { NEW, SHIPPED }

    public static class Item {
        public String sku;
        public double weight;
        public transient String cache;
        public static String ignored = "static";
    }

    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }

    public int getQuantity() {
        return quantity;
    }

    public void setQuantity(int quantity) {
        this.quantity = quantity;
    }

    public BigDecimal getPrice() {
        return price;
    }

    public void setPrice(BigDecimal price) {
        this.price = price;
    }

    public boolean isPaid() {
        return paid;
    }

    public void setPaid(boolean paid) {
        this.paid = paid;
    }

    public List<Item> getItems() {
        return items;
    }

    public void setItems(List<Item> items) {
        this.items = items;
    }

    public Map<String, Integer> getCounts() {
        return counts;
    }

    public void setCounts(Map<String, Integer> counts) {
        this.counts = counts;
    }

    public Status getStatus() {
        return status;
    }

    public void setStatus(Status status) {
        this.status = status;
    }

    /** Write-only: no getter. */
    public void setSecret(String secret) {
        this.secret = secret;
    }

    public String secret() {
        return secret;
    }

    public String getURL() {
        return URL;
    }

    public void setURL(String url) {
        this.URL = url;
    }

    /** A derived property: serialized, never deserialized. */
    public String getSummary() {
        return id + "x" + quantity;
    }
}
