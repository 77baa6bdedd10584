-- The owner console: signed-in sessions (only a hash of the cookie's token is stored, with the
-- session's CSRF token) and import jobs whose progress any server worker can read.

CREATE TABLE console_sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    owner_id    INTEGER NOT NULL REFERENCES owners(id) ON DELETE CASCADE,
    key_id      INTEGER NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at  TEXT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);

CREATE TABLE import_jobs (
    id           INTEGER PRIMARY KEY,
    agent_id     INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('files', 'url')),
    label        TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    done         INTEGER NOT NULL DEFAULT 0,
    total        INTEGER NOT NULL DEFAULT 0,
    current      TEXT NOT NULL DEFAULT '',
    report_json  TEXT NOT NULL DEFAULT '[]',
    error        TEXT NOT NULL DEFAULT '',
    worker       TEXT NOT NULL DEFAULT '',  -- host:pid of the process running it
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at  TEXT
);
CREATE INDEX import_jobs_agent ON import_jobs(agent_id, id);
