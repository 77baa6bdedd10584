-- Channels (issue 15): an agent connected to WhatsApp, Messenger, Instagram or Telegram; every
-- inbound delivery, recorded before any work; every reply, in a durable outbox.

-- One row per agent and channel. `account` is the channel's own id for the business (the
-- WhatsApp phone number id, the Facebook Page id, the Instagram account id, the bot's id):
-- replies are sent from it and deliveries for another account are refused. Secrets (tokens,
-- app secrets, verify tokens) live in agent_secrets, never here.
CREATE TABLE channel_links (
    id             INTEGER PRIMARY KEY,
    agent_id       INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    channel        TEXT NOT NULL,
    account        TEXT NOT NULL DEFAULT '',
    enabled        INTEGER NOT NULL DEFAULT 1,
    status         TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'ok', 'error')),
    status_detail  TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (agent_id, channel)
);

-- Every inbound message, once: the unique (channel, external_id) is written before any work,
-- so the same delivery twice (a retry, two at once) gives one turn and one reply. `state`:
-- received -> processing -> answered | held (a person has the conversation) | ignored; a
-- restart puts `processing` back to `received` and answers it.
CREATE TABLE channel_inbound (
    id               INTEGER PRIMARY KEY,
    agent_id         INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    channel          TEXT NOT NULL,
    external_id      TEXT NOT NULL,
    user_key         TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('message', 'owner', 'unsupported')),
    text             TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL DEFAULT 'received'
                     CHECK (state IN ('received', 'processing', 'answered', 'held', 'ignored')),
    conversation_id  INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    turn_id          INTEGER REFERENCES turns(id) ON DELETE SET NULL,
    sent_at          TEXT,
    received_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (channel, external_id)
);
CREATE INDEX channel_inbound_state ON channel_inbound(state, id) WHERE state IN
    ('received', 'processing');
CREATE INDEX channel_inbound_user ON channel_inbound(agent_id, channel, user_key, id);

-- Every message doppel sends on a channel: the agent's replies (one row per part of a long
-- reply), a person's replies from the console, notices. pending -> sent | held (outside the
-- customer-service window: it waits for the owner) | failed (the channel refused it for
-- good); a temporary failure stays pending with a later `next_at`.
CREATE TABLE channel_outbox (
    id               INTEGER PRIMARY KEY,
    agent_id         INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    channel          TEXT NOT NULL,
    user_key         TEXT NOT NULL,
    conversation_id  INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    inbound_id       INTEGER REFERENCES channel_inbound(id) ON DELETE SET NULL,
    part             INTEGER NOT NULL DEFAULT 0,
    kind             TEXT NOT NULL CHECK (kind IN ('reply', 'person', 'notice', 'test', 'control')),
    text             TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sent', 'held', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    error            TEXT NOT NULL DEFAULT '',
    external_id      TEXT,
    delivery         TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    sent_at          TEXT,
    UNIQUE (inbound_id, part)
);
CREATE INDEX channel_outbox_due ON channel_outbox(state, next_at) WHERE state = 'pending';
CREATE INDEX channel_outbox_agent ON channel_outbox(agent_id, id);
CREATE INDEX channel_outbox_external ON channel_outbox(channel, external_id);
