-- Composed answers: a turn answered from the facts bound to their subject (a price row, the
-- day's hours, the contact card, the one sentence that answers) without the model has a path of
-- its own. SQLite cannot alter a CHECK constraint: the turns table is rebuilt (as in 0003).

CREATE TABLE turns_new (
    id                INTEGER PRIMARY KEY,
    conversation_id   INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    agent_id          INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    user_message      TEXT NOT NULL,
    answer            TEXT NOT NULL,
    path              TEXT NOT NULL CHECK (path IN ('approved','composed','generated',
                                                    'extractive','dont_know','refused')),
    draft             TEXT,
    grounding_json    TEXT NOT NULL DEFAULT '{}',
    passages_json     TEXT NOT NULL DEFAULT '[]',
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    timings_json      TEXT NOT NULL DEFAULT '{}',
    model             TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    shields_json      TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO turns_new(id, conversation_id, agent_id, user_message, answer, path, draft,
                      grounding_json, passages_json, prompt_tokens, completion_tokens,
                      timings_json, model, created_at, shields_json)
    SELECT id, conversation_id, agent_id, user_message, answer, path, draft, grounding_json,
           passages_json, prompt_tokens, completion_tokens, timings_json, model, created_at,
           shields_json
    FROM turns;
DROP TABLE turns;
ALTER TABLE turns_new RENAME TO turns;
CREATE INDEX turns_conversation ON turns(conversation_id, id);
CREATE INDEX turns_agent ON turns(agent_id, id);
CREATE INDEX turns_agent_time ON turns(agent_id, created_at);
