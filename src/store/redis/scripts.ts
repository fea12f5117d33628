/**
 * The Lua scripts of the Redis store. Each runs in one hash-tag slot (an owner aggregate, an
 * insurer's queue, or one index bucket), validates everything before its first write (a Lua
 * error does not roll back earlier writes), and records in the aggregate's `:q` hash the
 * index operations the store must apply afterwards (see redis-store.ts).
 *
 * Records are stored as flat JSON objects (the SQLite row shapes): cjson round-trips them
 * unchanged because they hold only strings, numbers and nulls, never arrays or objects.
 */
import { luaScript } from "./commands.js";

const PRELUDE = `
local function fail(msg) error({err = msg}) end
local function isnull(v) return v == nil or v == cjson.null end
local function getrow(key, id)
  local s = redis.call('HGET', key, id)
  if s then return cjson.decode(s) end
  return nil
end
local function put(key, row) redis.call('HSET', key, row.id, cjson.encode(row)) end
`;

const script = (name: string, body: string) => luaScript(name, `${PRELUDE}\n${body}`);

/** KEYS: owner parts (keys.ts OWNER_PARTS). ARGV: payload JSON, ops JSON. */
export const APPLY_CHANGESET = script(
  "apply-changeset",
  `
local O, C, R, W, OO, A, X, N, K, Q = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local P = cjson.decode(ARGV[1])
local version = redis.call('HGET', O, 'version')
if not version then fail('OW_NOTFOUND unknown owner ' .. P.ownerId) end
if tonumber(version) ~= tonumber(P.expected) then fail('OW_CONFLICT owner changed concurrently; plan again') end
local oid = P.ownerId
local function mine(key, id, what)
  local row = getrow(key, id)
  if row and row.owner_id == oid then return row end
  fail('OW_INVALID ' .. what .. ' ' .. id .. ' is not a record of this owner')
end
local function fresh(key, id, what)
  if redis.call('HEXISTS', key, id) == 1 then fail('OW_INVALID ' .. what .. ' ' .. id .. ' already exists') end
end
local newWindows = {}
if not isnull(P.consent) then fresh(C, P.consent.id, 'consent') end
for _, s in ipairs(P.supersede) do mine(C, s.id, 'consent') end
for _, r in ipairs(P.receipts) do fresh(R, r.id, 'receipt') end
for _, w in ipairs(P.windows) do fresh(W, w.id, 'window'); newWindows[w.id] = w end
for _, s in ipairs(P.revokeWindows) do mine(W, s.id, 'window') end
for _, s in ipairs(P.closeWindows) do mine(W, s.id, 'window') end
for _, s in ipairs(P.revokeReceipts) do mine(R, s.id, 'receipt') end
for _, o in ipairs(P.optOuts) do fresh(OO, o.id, 'opt-out') end
for _, s in ipairs(P.withdraw) do mine(OO, s.id, 'opt-out') end
local seen = {}
for _, a in ipairs(P.attempts) do
  local key = a.insurer_id .. '\\n' .. a.idempotency_key
  if seen[key] or redis.call('HEXISTS', K, key) == 1 then
    fail('OW_DUPLICATE attempt ' .. a.idempotency_key .. ' already recorded')
  end
  seen[key] = true
  fresh(A, a.id, 'attempt')
  local w = newWindows[a.window_id] or mine(W, a.window_id, 'window')
  if w.insurer_id ~= a.insurer_id then fail('OW_INVALID window ' .. a.window_id .. ' is not a record of this owner') end
end
for _, e in ipairs(P.outbox) do fresh(X, e.id, 'outbox entry') end
for _, n in ipairs(P.notices) do fresh(N, n.id, 'owner notice') end

local function insert(key, row)
  row._seq = redis.call('HINCRBY', O, '_seq', 1)
  put(key, row)
end
local function update(key, id, fn)
  local row = getrow(key, id)
  fn(row)
  put(key, row)
end
local function once(row, field, value) if isnull(row[field]) then row[field] = value end end

if not isnull(P.consent) then insert(C, P.consent) end
for _, s in ipairs(P.supersede) do update(C, s.id, function(r) once(r, 'superseded_at', s.at) end) end
for _, r in ipairs(P.receipts) do insert(R, r) end
for _, w in ipairs(P.windows) do insert(W, w) end
for _, s in ipairs(P.revokeWindows) do
  update(W, s.id, function(r) once(r, 'revoked_at', s.at); once(r, 'revoke_reason', s.reason) end)
end
for _, s in ipairs(P.closeWindows) do update(W, s.id, function(r) once(r, 'closed_at', s.at) end) end
for _, s in ipairs(P.revokeReceipts) do
  update(R, s.id, function(r) once(r, 'revoked_at', s.at); once(r, 'revoke_reason', s.reason) end)
end
for _, o in ipairs(P.optOuts) do insert(OO, o) end
for _, s in ipairs(P.withdraw) do update(OO, s.id, function(r) once(r, 'withdrawn_at', s.at) end) end
for _, a in ipairs(P.attempts) do
  insert(A, a)
  redis.call('HSET', K, a.insurer_id .. '\\n' .. a.idempotency_key, a.id)
  update(W, a.window_id, function(r) r.attempts_used = r.attempts_used + 1 end)
end
for _, e in ipairs(P.outbox) do insert(X, e) end
for _, n in ipairs(P.notices) do insert(N, n) end
if not isnull(P.renewed) then
  if isnull(P.renewed.v) then redis.call('HDEL', O, 'renewed_at') else redis.call('HSET', O, 'renewed_at', P.renewed.v) end
end
local current = false
for _, s in ipairs(redis.call('HVALS', C)) do
  local c = cjson.decode(s)
  if isnull(c.superseded_at) and not isnull(c.preferences) then current = true end
end
if current then redis.call('HSET', O, 'cur', '1') else redis.call('HDEL', O, 'cur') end
redis.call('HINCRBY', O, 'version', 1)
redis.call('HSET', O, 'updated_at', P.now)
if ARGV[2] ~= '[]' then redis.call('HSET', Q, P.opId, ARGV[2]) end
return 'OK'
`,
);

/** KEYS: owner, consents, receipts, windows, opt-outs. One consistent snapshot. */
export const READ_OWNER = script(
  "read-owner",
  `
return { redis.call('HGETALL', KEYS[1]), redis.call('HVALS', KEYS[2]), redis.call('HVALS', KEYS[3]),
  redis.call('HVALS', KEYS[4]), redis.call('HVALS', KEYS[5]) }
`,
);

/** KEYS: owner. ARGV: field, value pairs. Creates the owner once; later calls change nothing. */
export const CREATE_OWNER = script(
  "create-owner",
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`,
);

/** KEYS: owner, pending ops. ARGV: {set, del, now, opId} JSON, ops JSON. Returns the owner hash. */
export const UPDATE_OWNER = script(
  "update-owner",
  `
local P = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then fail('OW_NOTFOUND unknown owner') end
for field, value in pairs(P.set) do redis.call('HSET', KEYS[1], field, value) end
for _, field in ipairs(P.del) do redis.call('HDEL', KEYS[1], field) end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'updated_at', P.now)
if ARGV[2] ~= '[]' then redis.call('HSET', KEYS[2], P.opId, ARGV[2]) end
return redis.call('HGETALL', KEYS[1])
`,
);

/** KEYS: owner parts. ARGV: {at, opId, ownerId} JSON, ops JSON. Returns all pending ops JSON. */
export const ERASE_OWNER = script(
  "erase-owner",
  `
local O, C, R, W, OO, X, N, Q = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[7], KEYS[8], KEYS[10]
local P = cjson.decode(ARGV[1])
if redis.call('EXISTS', O) == 0 then fail('OW_NOTFOUND unknown owner') end
local oid = P.ownerId
redis.call('HDEL', O, 'telegram_user_id', 'chat_id', 'phone_enc', 'phone_hash', 'country', 'name_enc', 'vehicle_enc', 'cur')
redis.call('HSET', O, 'phone_verified', '0', 'updated_at', P.at)
redis.call('HSETNX', O, 'deleted_at', P.at)
redis.call('HINCRBY', O, 'version', 1)
local function each(key, fn)
  for _, s in ipairs(redis.call('HVALS', key)) do
    local row = cjson.decode(s)
    if row.owner_id == oid then fn(row); put(key, row) end
  end
end
each(C, function(r) r.preferences = cjson.null end)
each(R, function(r) r.owner_id = cjson.null; r.consent_id = cjson.null; r.jws = cjson.null end)
each(W, function(r) r.owner_id = cjson.null end)
each(OO, function(r) r.owner_id = cjson.null end)
local ops = cjson.decode(ARGV[2])
for _, s in ipairs(redis.call('HVALS', X)) do
  local e = cjson.decode(s)
  table.insert(ops, { 'qunlink', e.insurer_id, e.id })
end
redis.call('DEL', X, N)
if #ops == 0 then return '[]' end
local encoded = cjson.encode(ops)
redis.call('HSET', Q, P.opId, encoded)
return encoded
`,
);

/**
 * KEYS: windows or opt-outs hash, pending ops. ARGV: kind, id, insurerId, at, opId, ownerId.
 * Sets acknowledged_at once; returns {row JSON, ops JSON} or nil when not this insurer's.
 */
export const ACKNOWLEDGE = script(
  "acknowledge",
  `
local row = getrow(KEYS[1], ARGV[2])
if not row or row.insurer_id ~= ARGV[3] then return false end
local ops = '[]'
if isnull(row.acknowledged_at) then
  row.acknowledged_at = ARGV[4]
  put(KEYS[1], row)
  if isnull(row.ack_notified_at) and not isnull(row.owner_id) then
    ops = cjson.encode({ { 'ack', row.id, row.acknowledged_at .. ' ' .. row.id .. ' ' .. ARGV[1] .. ' ' .. ARGV[6] } })
    redis.call('HSET', KEYS[2], ARGV[5], ops)
  end
end
return { cjson.encode(row), ops }
`,
);

/** KEYS: a record hash. ARGV: id, field, value. Sets the field once; 1 if the record exists. */
export const MARK_ONCE = script(
  "mark-once",
  `
local row = getrow(KEYS[1], ARGV[1])
if not row then return 0 end
if isnull(row[ARGV[2]]) then row[ARGV[2]] = ARGV[3]; put(KEYS[1], row) end
return 1
`,
);

/** KEYS: owner, windows, opt-outs. ARGV: insurerId, phoneHash, ownerId. {windows, opt-outs}. */
export const SCRUB_OWNER = script(
  "scrub-owner",
  `
local windows, optOuts = {}, {}
if redis.call('HGET', KEYS[1], 'phone_hash') == ARGV[2] then
  for _, s in ipairs(redis.call('HVALS', KEYS[2])) do
    local r = cjson.decode(s)
    if r.insurer_id == ARGV[1] and r.owner_id == ARGV[3] then table.insert(windows, s) end
  end
end
for _, s in ipairs(redis.call('HVALS', KEYS[3])) do
  local r = cjson.decode(s)
  if r.insurer_id == ARGV[1] and r.phone_hash == ARGV[2] then table.insert(optOuts, s) end
end
return { windows, optOuts }
`,
);

const CLAIMABLE = `
local function claimable(r, now)
  return r.state == 'pending' and r.next_attempt_at <= now and r.due_at <= now
    and (isnull(r.lease_until) or r.lease_until <= now)
end
`;

/** KEYS: entries, due, dead, counters. ARGV: row JSON, score, finished score, due ms. */
export const QUEUE_INSERT = script(
  "queue-insert",
  `
local row = cjson.decode(ARGV[1])
if redis.call('HEXISTS', KEYS[1], row.id) == 1 then return 0 end
row._qseq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
row._dueMs = tonumber(ARGV[4])
put(KEYS[1], row)
if row.state == 'pending' then
  redis.call('ZADD', KEYS[2], ARGV[2], row.id)
  redis.call('HINCRBY', KEYS[4], 'pending', 1)
  if row.attempts > 0 then redis.call('HINCRBY', KEYS[4], 'retrying', 1) end
elseif row.state == 'dead' then
  redis.call('ZADD', KEYS[3], ARGV[3], row.id)
  redis.call('HINCRBY', KEYS[4], 'dead', 1)
end
return 1
`,
);

/** KEYS: entries. ARGV: id. The entry stays; its owner link goes (/delete). */
export const QUEUE_UNLINK = script(
  "queue-unlink",
  `
local row = getrow(KEYS[1], ARGV[1])
if row and not isnull(row.owner_id) then row.owner_id = cjson.null; put(KEYS[1], row) end
return 1
`,
);

/** KEYS: entries, due. ARGV: now ms, now ISO, limit. Claimable rows, earliest first (read only). */
export const QUEUE_PEEK = script(
  "queue-peek",
  `${CLAIMABLE}
local limit = tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, limit * 2 + 10)
local out = {}
for _, id in ipairs(ids) do
  local s = redis.call('HGET', KEYS[1], id)
  if s and claimable(cjson.decode(s), ARGV[2]) then
    table.insert(out, s)
    if #out >= limit then break end
  end
end
return out
`,
);

/**
 * KEYS: entries, due. ARGV: now ISO, lease-until ISO, lease-until ms, worker, ids…
 * Leases each id still claimable; its due score moves to the lease end, so it leaves the
 * claimable range until the lease expires. Returns the leased rows.
 */
export const QUEUE_LEASE = script(
  "queue-lease",
  `${CLAIMABLE}
local out = {}
for i = 5, #ARGV do
  local row = getrow(KEYS[1], ARGV[i])
  if row and claimable(row, ARGV[1]) then
    row.lease_until = ARGV[2]
    row.lease_worker = ARGV[4]
    put(KEYS[1], row)
    redis.call('ZADD', KEYS[2], ARGV[3], row.id)
    table.insert(out, cjson.encode(row))
  end
end
return out
`,
);

/**
 * KEYS: entries, due, dead, counters, pending window marks. ARGV: id, worker, result JSON
 * {state, at, next?, nextMs?, error?, finishedMs}. Returns nil if the lease was lost, else
 * {1, window mark JSON or ''}.
 */
export const QUEUE_COMPLETE = script(
  "queue-complete",
  `
local row = getrow(KEYS[1], ARGV[1])
if not row or row.state ~= 'pending' or row.lease_worker ~= ARGV[2] then return false end
local R = cjson.decode(ARGV[3])
local wasRetrying = row.attempts > 0
local mark = ''
local function finished()
  redis.call('ZREM', KEYS[2], row.id)
  redis.call('HINCRBY', KEYS[4], 'pending', -1)
  if wasRetrying then redis.call('HINCRBY', KEYS[4], 'retrying', -1) end
end
if R.state == 'delivered' then
  row.state = 'delivered'; row.attempts = row.attempts + 1; row.delivered_at = R.at; row.finished_at = R.at
  finished()
  if row.type == 'window.opened' then
    mark = cjson.encode({ row.subject_id, R.at })
    redis.call('HSET', KEYS[5], row.id, mark)
  end
elseif R.state == 'retry' then
  row.attempts = row.attempts + 1; row.next_attempt_at = R.next; row.last_error = R.error
  local score = tonumber(R.nextMs)
  if row._dueMs and row._dueMs > score then score = row._dueMs end
  redis.call('ZADD', KEYS[2], score, row.id)
  if not wasRetrying then redis.call('HINCRBY', KEYS[4], 'retrying', 1) end
elseif R.state == 'dead' then
  row.state = 'dead'; row.attempts = row.attempts + 1; row.last_error = R.error; row.finished_at = R.at
  finished()
  redis.call('ZADD', KEYS[3], R.finishedMs, row.id)
  redis.call('HINCRBY', KEYS[4], 'dead', 1)
else
  row.state = 'skipped'; row.last_error = R.error; row.finished_at = R.at
  finished()
end
row.lease_until = cjson.null
row.lease_worker = cjson.null
put(KEYS[1], row)
return { 1, mark }
`,
);

/** KEYS: bucket. ARGV: field, value. The existing value, else sets and returns `value`. */
export const INDEX_GET_OR_SET = script(
  "index-get-or-set",
  `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then return current end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]
`,
);

/** KEYS: bucket. ARGV: field, expected, new. Replaces only the expected value; returns the current. */
export const INDEX_REPLACE = script(
  "index-replace",
  `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current == ARGV[2] or not current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]); return ARGV[3] end
return current
`,
);

/** KEYS: bucket. ARGV: field, value. Deletes the field only while it holds `value`. */
export const INDEX_DELETE_IF = script(
  "index-delete-if",
  `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`,
);

/** KEYS: bucket. ARGV: phone hash, owner id. Adds the owner to the hash's space-separated list. */
export const PHONE_ADD = script(
  "phone-add",
  `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); return 1 end
for owner in string.gmatch(current, '%S+') do if owner == ARGV[2] then return 0 end end
redis.call('HSET', KEYS[1], ARGV[1], current .. ' ' .. ARGV[2])
return 1
`,
);

/** KEYS: insurer, pending ops. ARGV: opId, ops JSON, field/value pairs. */
export const INSURER_ADD = script(
  "insurer-add",
  `
if redis.call('EXISTS', KEYS[1]) == 1 then fail('OW_DUPLICATE insurer already exists') end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 'OK'
`,
);

/**
 * KEYS: insurer, pending ops. ARGV: {id, set, del, hasUrl, url, opId} JSON. Only an active
 * insurer; a changed webhook URL clears webhook_disabled_at; a new API key hash re-points the
 * key index. Returns {hash, ops JSON}.
 */
export const INSURER_UPDATE = script(
  "insurer-update",
  `
local P = cjson.decode(ARGV[1])
local I = KEYS[1]
if redis.call('EXISTS', I) == 0 or redis.call('HEXISTS', I, 'removed_at') == 1 then
  fail('OW_NOTFOUND no active insurer ' .. P.id)
end
if P.hasUrl then
  local current = redis.call('HGET', I, 'webhook_url')
  local new = false
  if P.url ~= '' then new = P.url end
  if current ~= new then redis.call('HDEL', I, 'webhook_disabled_at') end
end
local ops = '[]'
local newKey = P.set.api_key_hash
if newKey then
  local old = redis.call('HGET', I, 'api_key_hash')
  local list = { { 'ix', 'k:' .. newKey, P.id } }
  if old and old ~= newKey then table.insert(list, { 'ixdel', 'k:' .. old, P.id }) end
  ops = cjson.encode(list)
  redis.call('HSET', KEYS[2], P.opId, ops)
end
for field, value in pairs(P.set) do redis.call('HSET', I, field, value) end
for _, field in ipairs(P.del) do redis.call('HDEL', I, field) end
return { redis.call('HGETALL', I), ops }
`,
);

/** KEYS: insurer. ARGV: at. Marks removed (first time kept); error if unknown. */
export const INSURER_REMOVE = script(
  "insurer-remove",
  `
if redis.call('EXISTS', KEYS[1]) == 0 then fail('OW_NOTFOUND no insurer') end
redis.call('HSETNX', KEYS[1], 'removed_at', ARGV[1])
return 'OK'
`,
);
