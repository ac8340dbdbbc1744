-- 0001: dialogs, inbound update ids and the outbox.

-- One row per person and chat. record is conversation.MarshalDialog's versioned JSON;
-- last_active repeats the dialog's LastActive so Expire needs no decoding.
CREATE TABLE dialogs (
    platform    text        NOT NULL,
    chat        text        NOT NULL,
    user_id     text        NOT NULL,
    record      jsonb       NOT NULL,
    last_active timestamptz NOT NULL,
    PRIMARY KEY (platform, chat, user_id)
);
CREATE INDEX dialogs_last_active ON dialogs (last_active);

-- Platform update ids already handled (Telegram update_id, Slack event_id).
CREATE TABLE inbound (
    platform text        NOT NULL,
    id       text        NOT NULL,
    seen     timestamptz NOT NULL,
    PRIMARY KEY (platform, id)
);
CREATE INDEX inbound_seen ON inbound (seen);

-- Replies committed but not yet delivered. id comes from a sequence, so it increases in
-- the order the rows were inserted.
CREATE TABLE outbox (
    id       bigserial   PRIMARY KEY,
    platform text        NOT NULL,
    chat     text        NOT NULL,
    user_id  text        NOT NULL,
    route    bytea,
    reply    jsonb       NOT NULL,
    created  timestamptz NOT NULL
);
CREATE INDEX outbox_platform_id ON outbox (platform, id);
