-- The owner's changes to lines of their content, made in the console's facts review: a line
-- replaced by the owner's version, or removed (replacement ''). Applied to passages before the
-- prompt, the grounding check and composed answers read them.
CREATE TABLE fact_overrides (
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    line        TEXT NOT NULL,
    replacement TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (agent_id, line)
);
