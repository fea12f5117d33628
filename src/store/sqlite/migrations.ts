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
  // 2: the insurers issue: directory management, feeds, attempts, scrub audit, leased outbox,
  // owner notifications. Outbox rows written before it become due at their due_at.
  `
  ALTER TABLE insurers ADD COLUMN webhook_disabled_at TEXT;
  CREATE INDEX insurers_api_key_hash ON insurers (api_key_hash);

  ALTER TABLE outbox ADD COLUMN owner_id TEXT;
  ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT;
  ALTER TABLE outbox ADD COLUMN lease_until TEXT;
  ALTER TABLE outbox ADD COLUMN lease_worker TEXT;
  -- When the entry reached a final state (dead entries are listed newest first).
  ALTER TABLE outbox ADD COLUMN finished_at TEXT;
  UPDATE outbox SET next_attempt_at = due_at;
  CREATE INDEX outbox_next ON outbox (state, next_attempt_at);
  -- claimDue walks each insurer's due entries in order: fairness without scanning the backlog.
  CREATE INDEX outbox_claim ON outbox (state, insurer_id, next_attempt_at);
  CREATE INDEX outbox_owner ON outbox (owner_id);
  CREATE INDEX outbox_finished ON outbox (state, finished_at);

  CREATE TABLE attempts (
    id TEXT PRIMARY KEY,
    window_id TEXT NOT NULL REFERENCES windows (id),
    insurer_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    remaining INTEGER NOT NULL,
    UNIQUE (insurer_id, idempotency_key)
  );
  CREATE INDEX attempts_window ON attempts (window_id, at);

  -- The audit of scrub and match-key hits (13 months); no phone number, only its keyed hash.
  CREATE TABLE scrub_hits (
    id TEXT PRIMARY KEY,
    owner_id TEXT,
    phone_hash TEXT NOT NULL,
    insurer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    answer TEXT NOT NULL,
    at TEXT NOT NULL
  );
  CREATE INDEX scrub_hits_owner ON scrub_hits (owner_id, at);
  CREATE INDEX scrub_hits_at ON scrub_hits (at);

  -- Keyset paging of the insurer feeds on (time, id).
  CREATE INDEX windows_feed ON windows (insurer_id, opens_at, id);
  CREATE INDEX opt_outs_feed ON opt_outs (insurer_id, effective_at, id);

  ALTER TABLE windows ADD COLUMN ack_notified_at TEXT;
  ALTER TABLE windows ADD COLUMN ack_reminder_at TEXT;
  ALTER TABLE opt_outs ADD COLUMN ack_notified_at TEXT;
  CREATE INDEX windows_ack_notice ON windows (acknowledged_at)
    WHERE acknowledged_at IS NOT NULL AND ack_notified_at IS NULL;
  CREATE INDEX opt_outs_ack_notice ON opt_outs (acknowledged_at)
    WHERE acknowledged_at IS NOT NULL AND ack_notified_at IS NULL;
  CREATE INDEX windows_ack_reminder ON windows (opens_at)
    WHERE acknowledged_at IS NULL AND ack_reminder_at IS NULL AND revoked_at IS NULL AND closed_at IS NULL;
  `,
  // 3: owner notices, queued in the changeset that files what they announce (refused_on_call)
  // and sent by the owner notifier. Deleted with the owner on /delete.
  `
  CREATE TABLE owner_notices (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES owners (id),
    kind TEXT NOT NULL,
    insurer_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
  );
  CREATE INDEX owner_notices_pending ON owner_notices (sent_at, created_at);
  CREATE INDEX owner_notices_owner ON owner_notices (owner_id);
  `,
  // 4: Telegram update ids already taken for processing (webhook re-deliveries are dropped).
  // Expired rows are purged as claims go by; no personal data.
  `
  CREATE TABLE telegram_updates (
    update_id INTEGER PRIMARY KEY,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX telegram_updates_expiry ON telegram_updates (expires_at);
  `,
  // 5: indexes no query uses (EXPLAIN QUERY PLAN over every statement on these tables), only
  // slowing each insert: outbox_next (claims seek outbox_claim by insurer, stats and dead lists
  // use outbox_claim / outbox_finished) and opt_outs_insurer (a prefix of opt_outs_feed).
  // outbox_due stays: listOutbox(db, state) orders by it.
  `
  DROP INDEX IF EXISTS outbox_next;
  DROP INDEX IF EXISTS opt_outs_insurer;
  `,
  // 6: the outbox rebuilt as a queue (bench/fanout.ts: every "I agree" writes 20 rows, every
  // delivery updates one). An INTEGER key, so rows append; the claim index holds only pending
  // rows, so a delivered row leaves one index instead of being re-filed in three; dead rows get
  // a small index of their own. webhook_id loses its UNIQUE index: it is `msg_<uuidv7>`, new
  // per entry. Removed: outbox_due, outbox_finished (the listings they served scan or use these).
  `
  CREATE TABLE outbox_queue (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    insurer_id TEXT NOT NULL,
    owner_id TEXT,
    type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    due_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    last_error TEXT,
    delivered_at TEXT,
    next_attempt_at TEXT NOT NULL,
    lease_until TEXT,
    lease_worker TEXT,
    finished_at TEXT
  );
  INSERT INTO outbox_queue (id, insurer_id, owner_id, type, subject_id, webhook_id, due_at, created_at,
    attempts, state, last_error, delivered_at, next_attempt_at, lease_until, lease_worker, finished_at)
  SELECT id, insurer_id, owner_id, type, subject_id, webhook_id, due_at, created_at,
    attempts, state, last_error, delivered_at, COALESCE(next_attempt_at, due_at), lease_until, lease_worker, finished_at
  FROM outbox ORDER BY rowid;
  DROP TABLE outbox;
  ALTER TABLE outbox_queue RENAME TO outbox;
  CREATE INDEX outbox_claim ON outbox (insurer_id, next_attempt_at) WHERE state = 'pending';
  CREATE INDEX outbox_owner ON outbox (owner_id);
  CREATE INDEX outbox_dead ON outbox (finished_at) WHERE state = 'dead';
  `,
  // 7: scrub quotas in the file, so processes sharing it share each key's quota (DESIGN §9).
  // No personal data: the key is an insurer id.
  `
  CREATE TABLE quotas (
    key TEXT PRIMARY KEY,
    tokens REAL,
    at INTEGER,
    day INTEGER,
    used INTEGER
  ) WITHOUT ROWID;
  `,
  // 8: the claim index orders pending rows by ready_at, the later of next_attempt_at and the
  // lease's end, then by next_attempt_at (rows whose leases lapsed together come back in due
  // order). A lease moves its row out of the due range, so a claim no longer reads past the
  // rows other claims hold (with claims pipelined, that was most of a claim's reads).
  `
  ALTER TABLE outbox ADD COLUMN ready_at TEXT;
  UPDATE outbox SET ready_at = CASE
      WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at THEN lease_until
      ELSE next_attempt_at END
    WHERE state = 'pending';
  DROP INDEX outbox_claim;
  CREATE INDEX outbox_claim ON outbox (insurer_id, ready_at, next_attempt_at) WHERE state = 'pending';
  `,
  // 9: an attempt remembers a digest of its request, so that an Idempotency-Key reused with
  // another body is refused instead of silently answered with the first (older rows: NULL).
  `
  ALTER TABLE attempts ADD COLUMN fingerprint TEXT;
  `,
  // 10: a receipt keeps the name and vehicle the owner agreed to share (encrypted), so that a
  // detail changed later never reaches the insurer on the old consent (older rows: NULL).
  `
  ALTER TABLE receipts ADD COLUMN name_enc TEXT;
  ALTER TABLE receipts ADD COLUMN vehicle_enc TEXT;
  `,
  // 11: an insurer's Chinese display name, which Chinese-speaking owners see (older rows: NULL,
  // so they see `name`).
  `
  ALTER TABLE insurers ADD COLUMN name_zh TEXT;
  `,
];
