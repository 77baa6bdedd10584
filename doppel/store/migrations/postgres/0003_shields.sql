-- Shields: turns can be refused and carry their shield verdicts; chunks carry the spans that
-- read as instructions to an AI.

ALTER TABLE turns DROP CONSTRAINT turns_path_check;
ALTER TABLE turns ADD CONSTRAINT turns_path_check
    CHECK (path IN ('approved','generated','extractive','dont_know','refused'));
ALTER TABLE turns ADD COLUMN shields_json TEXT NOT NULL DEFAULT '{}';

ALTER TABLE chunks ADD COLUMN flags_json TEXT NOT NULL DEFAULT '[]';
