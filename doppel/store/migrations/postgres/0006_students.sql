-- Distilled students: one per agent, its adapter files, its report, whether it answers.

CREATE TABLE students (
    agent_id      BIGINT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    dir           TEXT NOT NULL,
    adapter_gguf  TEXT NOT NULL,
    report_json   TEXT NOT NULL DEFAULT '{}',
    passed        INTEGER NOT NULL DEFAULT 0,
    active        INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL DEFAULT doppel_now()
);
