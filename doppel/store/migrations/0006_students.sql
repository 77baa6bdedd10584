-- Distilled students: one per agent (the latest distillation), its adapter files, the
-- evaluation report the owner sees, and whether it answers for the agent.

CREATE TABLE students (
    agent_id      INTEGER PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    dir           TEXT NOT NULL,               -- <home>/students/<slug>: dataset, adapter, report
    adapter_gguf  TEXT NOT NULL,               -- the adapter for llama.cpp
    report_json   TEXT NOT NULL DEFAULT '{}',
    passed        INTEGER NOT NULL DEFAULT 0,  -- met the thresholds shown in the report
    active        INTEGER NOT NULL DEFAULT 0,  -- answers for the agent (only if passed, unless forced)
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
