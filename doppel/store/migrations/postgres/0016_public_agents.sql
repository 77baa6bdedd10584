-- Whether anyone may chat with an agent, as a column (issue 16): the anonymous listings (GET /,
-- /v1/models without a key) read every agent's spec before, which at a million agents took
-- a minute per request. The spec stays the truth; AgentRepo writes both in one statement.
ALTER TABLE agents ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
UPDATE agents SET public = 1 WHERE (spec_json::json ->> 'public')::boolean IS TRUE;
CREATE INDEX agents_public ON agents(slug) WHERE public = 1;
-- An owner's agents in slug order (a key's /v1/models page) without a sort; it serves every
-- look-up by owner that agents_owner served.
CREATE INDEX agents_owner_slug ON agents(owner_id, slug);
DROP INDEX IF EXISTS agents_owner;
