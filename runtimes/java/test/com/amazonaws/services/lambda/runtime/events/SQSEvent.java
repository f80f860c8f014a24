package com.amazonaws.services.lambda.runtime.events;

import java.util.List;

/**
 * A stand-in for aws-lambda-java-events' SQSEvent (bean names differ from the JSON's
 * "Records", which AWS maps with a mixin).
 */
public class SQSEvent {
    private List<SQSMessage> records;

    public List<SQSMessage> getRecords() {
        return records;
    }

    public void setRecords(List<SQSMessage> records) {
        this.records = records;
    }

    public static class SQSMessage {
        private String messageId;
        private String body;
        private String eventSource;

        public String getMessageId() {
            return messageId;
        }

        public void setMessageId(String messageId) {
            this.messageId = messageId;
        }

        public String getBody() {
            return body;
        }

        public void setBody(String body) {
            this.body = body;
        }

        public String getEventSource() {
            return eventSource;
        }

        public void setEventSource(String eventSource) {
            this.eventSource = eventSource;
        }
    }
}
