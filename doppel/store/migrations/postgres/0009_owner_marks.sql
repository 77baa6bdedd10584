-- The owner marks an answer right or wrong in the console.
ALTER TABLE turns ADD COLUMN owner_mark TEXT NOT NULL DEFAULT ''
    CHECK (owner_mark IN ('', 'right', 'wrong'));
CREATE INDEX turns_owner_mark ON turns(agent_id, owner_mark) WHERE owner_mark != '';
