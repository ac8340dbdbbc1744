-- 0002: events for statistics (conversation.Event as JSON), committed with each turn.
CREATE TABLE events (
    id   bigserial   PRIMARY KEY,
    at   timestamptz NOT NULL,
    body jsonb       NOT NULL
);
CREATE INDEX events_at ON events (at);
