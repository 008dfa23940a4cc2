-- Raw payloads move into zstd-compressed blocks (salon.store.rawstore): `raw` keeps one row per
-- record with where its bytes are. The payloads of an older archive are moved by the Python
-- step of this migration (salon.store.rawstore.migrate_payloads), in the same transaction.

CREATE SEQUENCE raw_block_seq START 1;

CREATE TABLE raw_blocks (
    block_id BIGINT PRIMARY KEY,
    codec    VARCHAR NOT NULL,               -- zstd
    data     BLOB NOT NULL                   -- one compressed frame of concatenated payloads
);

ALTER TABLE raw RENAME TO raw_0005;

CREATE TABLE raw (
    raw_id        VARCHAR PRIMARY KEY,       -- blake2b-128 of the payload bytes, hex
    format        VARCHAR NOT NULL,
    block_id      BIGINT NOT NULL,           -- raw_blocks.block_id holding the payload
    block_offset  BIGINT NOT NULL,           -- where it starts in the decompressed block
    block_length  BIGINT NOT NULL,           -- its length in bytes
    file_id       BIGINT,
    line          BIGINT,
    source        VARCHAR,
    retrieved_at  TIMESTAMPTZ,
    salon_version VARCHAR NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL
);
