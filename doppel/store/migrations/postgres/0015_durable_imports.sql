-- Import jobs any process can run (issue 16: several workers and hosts, one queue): an
-- upload's files are kept with its job until the job ends, and a website job keeps its address
-- (only when it holds no password or token: such an address is never stored, and its job runs
-- in the process that took it). A process claims the oldest queued job (on PostgreSQL with
-- FOR UPDATE SKIP LOCKED, so that two never take the same one); a job whose process died is
-- queued again, up to three attempts.
CREATE TABLE import_uploads (
    job_id  BIGINT NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
    ord     INTEGER NOT NULL,
    name    TEXT NOT NULL,
    data    BYTEA NOT NULL,
    PRIMARY KEY (job_id, ord)
);
ALTER TABLE import_jobs ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE import_jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN durable INTEGER NOT NULL DEFAULT 0;
CREATE INDEX import_jobs_queued ON import_jobs(id) WHERE state = 'queued' AND durable = 1;
