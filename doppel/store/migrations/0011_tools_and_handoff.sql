-- Agents that act (issue 14): a turn answered by a tool has the path 'tool', and one handed to
-- a person (or received while a person holds the conversation) the path 'handoff'. SQLite
-- cannot alter a CHECK constraint: the turns table is rebuilt (as in 0008), owner marks kept.

CREATE TABLE turns_new (
    id                INTEGER PRIMARY KEY,
    conversation_id   INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    agent_id          INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    user_message      TEXT NOT NULL,
    answer            TEXT NOT NULL,
    path              TEXT NOT NULL CHECK (path IN ('approved','composed','generated',
                                                    'extractive','dont_know','refused',
                                                    'tool','handoff')),
    draft             TEXT,
    grounding_json    TEXT NOT NULL DEFAULT '{}',
    passages_json     TEXT NOT NULL DEFAULT '[]',
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    timings_json      TEXT NOT NULL DEFAULT '{}',
    model             TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    shields_json      TEXT NOT NULL DEFAULT '{}',
    owner_mark        TEXT NOT NULL DEFAULT '' CHECK (owner_mark IN ('', 'right', 'wrong'))
);
INSERT INTO turns_new(id, conversation_id, agent_id, user_message, answer, path, draft,
                      grounding_json, passages_json, prompt_tokens, completion_tokens,
                      timings_json, model, created_at, shields_json, owner_mark)
    SELECT id, conversation_id, agent_id, user_message, answer, path, draft, grounding_json,
           passages_json, prompt_tokens, completion_tokens, timings_json, model, created_at,
           shields_json, owner_mark
    FROM turns;
DROP TABLE turns;
ALTER TABLE turns_new RENAME TO turns;
CREATE INDEX turns_conversation ON turns(conversation_id, id);
CREATE INDEX turns_agent ON turns(agent_id, id);
CREATE INDEX turns_agent_time ON turns(agent_id, created_at);
CREATE INDEX turns_owner_mark ON turns(agent_id, owner_mark) WHERE owner_mark != '';

-- Who holds a conversation: the agent, nobody yet (a person was asked for), or a person.
-- `pending_json` is a tool call waiting for the customer's answer to a question ("what's the
-- e-mail on the order?"): the tool, the arguments known so far and what was asked.
ALTER TABLE conversations ADD COLUMN state TEXT NOT NULL DEFAULT 'agent'
    CHECK (state IN ('agent', 'waiting_for_human', 'human'));
ALTER TABLE conversations ADD COLUMN state_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN state_since TEXT;
ALTER TABLE conversations ADD COLUMN pending_json TEXT NOT NULL DEFAULT '{}';
CREATE INDEX conversations_state ON conversations(agent_id, state) WHERE state != 'agent';

-- Every tool call, with the turn it belongs to: what was asked of the tool, what it returned,
-- how long it took, and why it failed.
CREATE TABLE tool_calls (
    id             INTEGER PRIMARY KEY,
    turn_id        INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    agent_id       INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    tool           TEXT NOT NULL,
    arguments_json TEXT NOT NULL DEFAULT '{}',
    status         TEXT NOT NULL CHECK (status IN ('ok','needs_input','refused','failed',
                                                   'invalid','nothing')),
    result_json    TEXT NOT NULL DEFAULT '{}',
    error          TEXT NOT NULL DEFAULT '',
    latency_ms     REAL NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX tool_calls_turn ON tool_calls(turn_id);
CREATE INDEX tool_calls_agent ON tool_calls(agent_id, id);

-- Messages to the customer that are not a turn's answer: a person's replies while they hold
-- the conversation, and notices ("the assistant is back").
CREATE TABLE human_messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    agent_id         INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('human', 'notice')),
    author           TEXT NOT NULL DEFAULT '',
    text             TEXT NOT NULL,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX human_messages_conversation ON human_messages(conversation_id, id);

-- Leads the agent collected, and booking requests the owner confirms or declines.
CREATE TABLE leads (
    id               INTEGER PRIMARY KEY,
    agent_id         INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    conversation_id  INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    name             TEXT NOT NULL,
    contact          TEXT NOT NULL,
    need             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'done')),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX leads_agent ON leads(agent_id, id);

CREATE TABLE booking_requests (
    id               INTEGER PRIMARY KEY,
    agent_id         INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    conversation_id  INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    starts_at        TEXT NOT NULL,     -- ISO 8601 with the business's UTC offset
    ends_at          TEXT NOT NULL,
    name             TEXT NOT NULL,
    contact          TEXT NOT NULL,
    service          TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'requested'
                     CHECK (status IN ('requested', 'confirmed', 'declined')),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX booking_requests_agent ON booking_requests(agent_id, starts_at);

-- Secrets an owner gives an agent's tools (an order endpoint's HMAC key): written, checked,
-- never read back out through any API.
CREATE TABLE agent_secrets (
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (agent_id, name)
);
