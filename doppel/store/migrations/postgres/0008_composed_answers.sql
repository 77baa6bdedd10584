-- Composed answers: a turn answered from bound facts without the model has a path of its own.

ALTER TABLE turns DROP CONSTRAINT turns_path_check;
ALTER TABLE turns ADD CONSTRAINT turns_path_check
    CHECK (path IN ('approved','composed','generated','extractive','dont_know','refused'));
