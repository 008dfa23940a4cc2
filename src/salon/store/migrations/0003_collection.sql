-- Live collection: resume cursors, connections (what was covered when) and gaps with their
-- backfills. Runs themselves are rows of `imports` with kind = 'collect'.
-- Documented in docs/schema.md (section "Live collection"); keep both in step.

CREATE TABLE collect_cursors (
    campaign    VARCHAR NOT NULL,            -- campaign slug
    source      VARCHAR NOT NULL,            -- e.g. mastodon:mastodon.social, bluesky:jetstream, x:search
    name        VARCHAR NOT NULL,            -- e.g. tag:museumweek:newest, time_us, since_id
    value       VARCHAR,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign, source, name)
);

CREATE TABLE collect_connections (
    connection_id BIGINT PRIMARY KEY,
    run_id        BIGINT,                    -- imports.import_id of the collect run
    campaign      VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,
    url           VARCHAR,                   -- endpoint, without credentials or cursor
    opened_at     TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,      -- heartbeat: the end of a connection killed with -9
    closed_at     TIMESTAMPTZ,
    close_reason  VARCHAR,
    records       BIGINT DEFAULT 0,
    posts_new     BIGINT DEFAULT 0
);

CREATE TABLE collect_gaps (
    gap_id        BIGINT PRIMARY KEY,
    campaign      VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,          -- the source that was not connected
    gap_start     TIMESTAMPTZ NOT NULL,
    gap_end       TIMESTAMPTZ NOT NULL,
    reason        VARCHAR,
    detected_at   TIMESTAMPTZ NOT NULL,
    status        VARCHAR NOT NULL,          -- open | backfilling | backfilled | failed
    backfill_source VARCHAR,                 -- e.g. jetstream cursor replay, bluesky:search, mastodon:host
    backfill_started_at  TIMESTAMPTZ,
    backfill_finished_at TIMESTAMPTZ,
    records       BIGINT DEFAULT 0,
    posts_new     BIGINT DEFAULT 0,
    note          VARCHAR
);

CREATE SEQUENCE collect_connection_seq START 1;
CREATE SEQUENCE collect_gap_seq START 1;
