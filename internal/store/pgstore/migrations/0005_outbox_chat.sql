-- 0005: Claim looks for an older reply of the same chat before it hands out a newer one.
CREATE INDEX outbox_platform_chat_id ON outbox (platform, chat, id);
