/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many have run.
 * Append only: never edit a migration that has shipped. Columns ending in `_enc` hold
 * field-cipher tokens; `_hash` columns hold keyed hashes; JSON columns hold arrays/objects.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE insurers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    aliases TEXT NOT NULL,
    webhook_url TEXT,
    contact TEXT,
    sandbox INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    removed_at TEXT,
    api_key_hash TEXT NOT NULL,
    webhook_secret_enc TEXT NOT NULL
  );

  -- telegram_user_id and chat_id are NULL once erased, so a returning user starts afresh.
  CREATE TABLE owners (
    id TEXT PRIMARY KEY,
    telegram_user_id INTEGER UNIQUE,
    chat_id INTEGER,
    language TEXT NOT NULL,
    phone_enc TEXT,
    phone_hash TEXT,
    phone_verified INTEGER NOT NULL DEFAULT 0,
    country TEXT,
    timezone TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    name_enc TEXT,
    vehicle_enc TEXT,
    sandbox INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    renewed_at TEXT,
    deleted_at TEXT
  );
  CREATE INDEX owners_phone_hash ON owners (phone_hash);

  CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES owners (id),
    preferences TEXT,
    jurisdiction TEXT NOT NULL,
    timezone TEXT NOT NULL,
    language TEXT NOT NULL,
    text_version TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    agreed_at TEXT NOT NULL,
    superseded_at TEXT
  );
  CREATE INDEX consents_owner ON consents (owner_id);

  CREATE TABLE receipts (
    id TEXT PRIMARY KEY,
    owner_id TEXT REFERENCES owners (id),
    insurer_id TEXT NOT NULL,
    consent_id TEXT,
    jws TEXT,
    payload_hash TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    revoked_at TEXT,
    revoke_reason TEXT
  );
  CREATE INDEX receipts_owner ON receipts (owner_id);
  CREATE INDEX receipts_payload_hash ON receipts (payload_hash);

  -- owner_id is NULL after /delete: the window stays as the insurer's record, unlinked.
  CREATE TABLE windows (
    id TEXT PRIMARY KEY,
    owner_id TEXT REFERENCES owners (id),
    insurer_id TEXT NOT NULL,
    receipt_id TEXT NOT NULL,
    consent_id TEXT NOT NULL,
    renewal_date TEXT NOT NULL,
    opens_at TEXT NOT NULL,
    closes_at TEXT NOT NULL,
    timezone TEXT NOT NULL,
    days TEXT NOT NULL,
    hours TEXT NOT NULL,
    channels TEXT NOT NULL,
    max_attempts INTEGER NOT NULL,
    attempts_used INTEGER NOT NULL DEFAULT 0,
    verification_code TEXT NOT NULL,
    stop_token TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    revoke_reason TEXT,
    closed_at TEXT,
    delivered_at TEXT,
    acknowledged_at TEXT
  );
  CREATE INDEX windows_owner ON windows (owner_id);
  CREATE INDEX windows_insurer ON windows (insurer_id, opens_at);

  CREATE TABLE opt_outs (
    id TEXT PRIMARY KEY,
    owner_id TEXT REFERENCES owners (id),
    insurer_id TEXT NOT NULL,
    phone_hash TEXT NOT NULL,
    match_key TEXT NOT NULL,
    reason TEXT NOT NULL,
    effective_at TEXT NOT NULL,
    honour_by TEXT NOT NULL,
    until TEXT,
    basis TEXT NOT NULL,
    withdrawn_at TEXT,
    acknowledged_at TEXT
  );
  CREATE INDEX opt_outs_owner ON opt_outs (owner_id);
  CREATE INDEX opt_outs_insurer ON opt_outs (insurer_id, effective_at);
  CREATE INDEX opt_outs_phone ON opt_outs (phone_hash, insurer_id);

  CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    insurer_id TEXT NOT NULL,
    type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL UNIQUE,
    due_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    last_error TEXT,
    delivered_at TEXT
  );
  CREATE INDEX outbox_due ON outbox (state, due_at);

  -- key_hash is a keyed hash of the session key: a chat id is itself an identifier.
  CREATE TABLE sessions (
    key_hash TEXT PRIMARY KEY,
    value_enc TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
];
