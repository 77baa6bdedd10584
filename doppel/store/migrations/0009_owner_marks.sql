-- The owner marks an answer right or wrong in the console. A wrong one goes to the inbox of
-- unanswered questions (whatever its path), where the owner's correction becomes an approved
-- answer; a right one leaves it.
ALTER TABLE turns ADD COLUMN owner_mark TEXT NOT NULL DEFAULT ''
    CHECK (owner_mark IN ('', 'right', 'wrong'));
CREATE INDEX turns_owner_mark ON turns(agent_id, owner_mark) WHERE owner_mark != '';
