-- Chats (DESIGN.md, Chat; docs/chats.md). A chat's definition lives in its campaign's
-- [[chats]] (campaigns.extra); `chats` and `chat_questions` materialise it when the campaign is
-- stored, so SQL can find a chat by slug or series. `chat_post_intents` records each question
-- Salon posts BEFORE the request is sent (never twice, across a kill -9), and
-- `chat_hidden_posts` logs every editor's hide/show of a post in a chat (who and when).

CREATE TABLE chats (
    slug         VARCHAR PRIMARY KEY,
    campaign_id  INTEGER NOT NULL,
    series_key   VARCHAR NOT NULL,           -- tag_key of the chat's main hashtag
    hashtags     VARCHAR NOT NULL,           -- JSON list, as written
    start_utc    TIMESTAMPTZ NOT NULL,
    end_utc      TIMESTAMPTZ NOT NULL,       -- start + minutes
    grace_end_utc TIMESTAMPTZ NOT NULL,      -- end + grace (late thread answers only)
    hosts        VARCHAR NOT NULL,           -- JSON list of platform:handle
    title        VARCHAR
);

CREATE TABLE chat_questions (
    slug   VARCHAR NOT NULL,
    n      INTEGER NOT NULL,                 -- 1-based
    text   VARCHAR NOT NULL,
    at_utc TIMESTAMPTZ NOT NULL
);

CREATE TABLE chat_post_intents (
    intent_key   VARCHAR PRIMARY KEY,        -- slug/n/platform/host: one post per question and account
    slug         VARCHAR NOT NULL,
    n            INTEGER NOT NULL,
    platform     VARCHAR NOT NULL,
    host         VARCHAR NOT NULL,           -- platform:handle
    idempotency_key VARCHAR NOT NULL,        -- sent as Idempotency-Key (Mastodon)
    text         VARCHAR NOT NULL,           -- exactly what is posted
    state        VARCHAR NOT NULL,           -- pending | sending | posted | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    uid          VARCHAR,                    -- the post's uid once posted
    url          VARCHAR,
    error        VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE chat_hidden_posts (
    slug       VARCHAR NOT NULL,
    uid        VARCHAR NOT NULL,
    hidden     BOOLEAN NOT NULL,             -- true: hidden; false: shown again
    by_user    VARCHAR NOT NULL,
    decided_at TIMESTAMPTZ NOT NULL,
    reason     VARCHAR
);
