-- The full-text index follows the chunks table by itself (SQLite: triggers on an FTS5 table):
-- here a generated tsvector with a GIN index. A heading's words weigh more ('A'), as the
-- heading column did in FTS5. The 'english' configuration stems as FTS5's porter tokenizer
-- did ("croissants" finds "croissant"); doppel ranks the matches itself with the agent's own
-- statistics (doppel.knowledge.index), so only which chunks match comes from here.
ALTER TABLE chunks ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', heading), 'A') || to_tsvector('english', text)) STORED;
CREATE INDEX chunks_search ON chunks USING gin(search);
