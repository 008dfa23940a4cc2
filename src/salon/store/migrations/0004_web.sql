-- The web app (salon serve): editors' accounts, sessions, scoped API tokens, and the folded
-- text of posts the archive explorer searches. Documented in docs/schema.md.

CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    username      VARCHAR NOT NULL UNIQUE,
    role          VARCHAR NOT NULL,          -- admin | editor
    password_hash VARCHAR NOT NULL,          -- argon2id (argon2-cffi)
    created_at    TIMESTAMPTZ NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE sessions (
    session_hash VARCHAR PRIMARY KEY,        -- sha256 of the cookie value (the value is never stored)
    user_id      INTEGER NOT NULL,
    csrf_token   VARCHAR NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    token_id     INTEGER PRIMARY KEY,
    token_hash   VARCHAR NOT NULL UNIQUE,    -- sha256 of the token (shown once, at creation)
    name         VARCHAR NOT NULL,
    user_id      INTEGER,                    -- who created it (NULL: from the command line)
    scopes       VARCHAR NOT NULL,           -- space-separated: campaigns:write ingest
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

-- Search side table: posts' text folded (lower case, accents stripped) so "musee" finds
-- "Musée" and the reverse. Derived data, kept up to date from posts.collected_at.
CREATE TABLE post_search (
    uid        VARCHAR NOT NULL,
    created_at TIMESTAMPTZ,
    folded     VARCHAR
);

CREATE TABLE post_search_state (
    id         INTEGER PRIMARY KEY,          -- always 1
    posts_mark TIMESTAMPTZ                   -- max(posts.collected_at) folded so far
);

CREATE SEQUENCE user_id_seq START 1;
CREATE SEQUENCE token_id_seq START 1;
