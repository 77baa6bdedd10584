-- The full-text index follows the chunks table by itself: a chunk inserted, changed or deleted
-- (deleting an agent or a document cascades to its chunks) is inserted, changed or deleted in
-- chunks_fts in the same statement, so no code path can leave a row behind for a later query
-- to find, and writing a chunk is the same SQL on SQLite and PostgreSQL (where the tsvector is
-- a generated column).
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, agent, heading, text)
        VALUES (new.id, 'a' || new.agent_id, new.heading, new.text);
END;

CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.id;
END;

CREATE TRIGGER chunks_fts_update AFTER UPDATE OF agent_id, heading, text ON chunks BEGIN
    UPDATE chunks_fts SET agent = 'a' || new.agent_id, heading = new.heading, text = new.text
        WHERE rowid = old.id;
END;

-- Rows an older doppel left behind (none should exist: it deleted them by hand).
DELETE FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks);
