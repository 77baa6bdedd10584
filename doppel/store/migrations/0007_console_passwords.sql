-- Console accounts without a terminal: an owner may have a password (an Argon2id hash in PHC
-- form; NULL: the owner signs in to the console with an admin key only), the operator's
-- one-time invitation links (only a SHA-256 of the link's token is stored), and console
-- sessions opened with a password, which have no key (key_id NULL).

ALTER TABLE owners ADD COLUMN password_hash TEXT;

CREATE TABLE owner_invites (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at  TEXT NOT NULL,
    used_at     TEXT,                  -- set, once, by the account created through the link
    owner_id    INTEGER REFERENCES owners(id) ON DELETE SET NULL
);

-- SQLite cannot drop NOT NULL from a column: the sessions table is rebuilt with key_id
-- nullable, keeping every open session.
CREATE TABLE console_sessions_new (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    owner_id    INTEGER NOT NULL REFERENCES owners(id) ON DELETE CASCADE,
    key_id      INTEGER REFERENCES api_keys(id) ON DELETE CASCADE,  -- NULL: opened by password
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at  TEXT NOT NULL
);
INSERT INTO console_sessions_new(id, token_hash, owner_id, key_id, csrf, created_at, expires_at)
    SELECT id, token_hash, owner_id, key_id, csrf, created_at, expires_at FROM console_sessions;
DROP TABLE console_sessions;
ALTER TABLE console_sessions_new RENAME TO console_sessions;
CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);
CREATE INDEX console_sessions_owner ON console_sessions(owner_id);
