-- Memory of the end user (opt-in per agent): short facts a customer stated about themselves,
-- scoped to (agent, channel, user), with the turn they came from. And the log of erasures
-- ("forget me", an owner's delete): what was erased, counted, never the content.

CREATE TABLE user_memory (
    id          INTEGER PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL DEFAULT 'web',
    user_key    TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    turn_id     INTEGER REFERENCES turns(id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX user_memory_user ON user_memory(agent_id, channel, user_key);

CREATE TABLE erasures (
    id             INTEGER PRIMARY KEY,
    agent_id       INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    channel        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    conversations  INTEGER NOT NULL DEFAULT 0,
    turns          INTEGER NOT NULL DEFAULT 0,
    memory         INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX erasures_agent ON erasures(agent_id, id);

-- How a tool call's tool was chosen: its rule, by meaning (MiniLM), a model's native tool
-- call, or a question the agent asked before ("pending").
ALTER TABLE tool_calls ADD COLUMN chosen_by TEXT NOT NULL DEFAULT '';
