-- The owner's inbox of unanswered questions: questions the owner dismissed (stored normalised,
-- one row per agent and question) stay out of it. Turns gain an (agent, time) index for the
-- console's per-day analytics and time-windowed queries.

CREATE TABLE inbox_dismissals (
    id          INTEGER PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    question    TEXT NOT NULL,           -- normalised: lower-case, single spaces, no end marks
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (agent_id, question)
);

CREATE INDEX turns_agent_time ON turns(agent_id, created_at);
