-- Agents, their knowledge (documents -> chunks, with an FTS5 index), approved answers,
-- conversations and turns. Embeddings are float32 blobs (384 dims for MiniLM).

CREATE TABLE agents (
    -- AUTOINCREMENT: an id is never reused, so caches keyed on (id, version) stay correct
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT NOT NULL UNIQUE,
    spec_json   TEXT NOT NULL,
    -- bumped whenever the agent's chunks or approved answers change; caches key on it
    knowledge_version INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE documents (
    id          INTEGER PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    source      TEXT NOT NULL,           -- file name as cited to users
    loader      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    n_chunks    INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (agent_id, source)
);

CREATE TABLE chunks (
    id           INTEGER PRIMARY KEY,
    agent_id     INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    document_id  INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord          INTEGER NOT NULL,
    heading      TEXT NOT NULL DEFAULT '',
    text         TEXT NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset   INTEGER NOT NULL,
    embedding    BLOB NOT NULL
);
CREATE INDEX chunks_agent ON chunks(agent_id);
CREATE INDEX chunks_document ON chunks(document_id);

-- The agent column holds one token ("a<ID>") so that a query is restricted to one agent by
-- the FTS index itself; it gets weight 0 in bm25(). rowid = chunks.id.
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    agent, heading, text,
    tokenize='porter unicode61 remove_diacritics 2'
);

CREATE TABLE approved_answers (
    id          INTEGER PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    document_id INTEGER REFERENCES documents(id) ON DELETE CASCADE,  -- NULL: added by owner
    question    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    embedding   BLOB NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX approved_agent ON approved_answers(agent_id);

CREATE TABLE conversations (
    id          INTEGER PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    thread      TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (agent_id, thread)
);

CREATE TABLE turns (
    id                INTEGER PRIMARY KEY,
    conversation_id   INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    agent_id          INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    user_message      TEXT NOT NULL,
    answer            TEXT NOT NULL,
    path              TEXT NOT NULL CHECK (path IN ('approved','generated','extractive','dont_know')),
    draft             TEXT,
    grounding_json    TEXT NOT NULL DEFAULT '{}',
    passages_json     TEXT NOT NULL DEFAULT '[]',
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    timings_json      TEXT NOT NULL DEFAULT '{}',
    model             TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX turns_conversation ON turns(conversation_id, id);
CREATE INDEX turns_agent ON turns(agent_id, id);
