-- Owners and their API keys; agents gain an owner (NULL: created locally by the CLI).

CREATE TABLE owners (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id     INTEGER NOT NULL REFERENCES owners(id) ON DELETE CASCADE,
    prefix       TEXT NOT NULL UNIQUE,     -- public part, for lookup and display
    hash         TEXT NOT NULL,            -- sha256 of the whole key; the key is never stored
    label        TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL,            -- JSON list: "admin", "chat"
    agents       TEXT,                     -- JSON list of slugs a chat key may use; NULL: all
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_keys_owner ON api_keys(owner_id);

ALTER TABLE agents ADD COLUMN owner_id INTEGER REFERENCES owners(id) ON DELETE CASCADE;
CREATE INDEX agents_owner ON agents(owner_id);
