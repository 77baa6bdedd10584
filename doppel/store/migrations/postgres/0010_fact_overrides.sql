-- The owner's changes to lines of their content, made in the console's facts review.
CREATE TABLE fact_overrides (
    agent_id    BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    line        TEXT NOT NULL,
    replacement TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT doppel_now(),
    PRIMARY KEY (agent_id, line)
);
