/**
 * The Lua scripts of the Redis store. Each runs in one hash-tag slot (an owner document, an
 * insurer's queue, or one index bucket), validates everything before its first write (a Lua
 * error does not roll back earlier writes), and records in the aggregate's `:q` hash the
 * index operations the store must apply afterwards (see redis-store.ts).
 *
 * Records are stored as positional arrays (codec.ts RECORDS gives each kind's field order);
 * the scripts turn them into named rows on reading and back on writing, so the logic below
 * works on field names. Values arrive already encoded (ids, times as epoch ms) from the
 * store, so the scripts compare them as they are.
 */
import { DOC_KINDS, FIELD_ORDER } from "./codec.js";
import { luaScript } from "./commands.js";

const PRELUDE = `
local function fail(msg) error({err = msg}) end
local function isnull(v) return v == nil or v == cjson.null end
local function tm(v) return tonumber(v) or v end
local F = cjson.decode([==[${JSON.stringify(FIELD_ORDER)}]==])
local DOC = cjson.decode([==[${JSON.stringify(DOC_KINDS)}]==])
local function named(kind, t)
  local r = {}
  for i, f in ipairs(F[kind]) do if not isnull(t[i]) then r[f] = t[i] end end
  return r
end
local function tuple(kind, r)
  local t, n = {}, 0
  for i, f in ipairs(F[kind]) do
    if isnull(r[f]) then t[i] = cjson.null else t[i] = r[f]; n = i end
  end
  for i = n + 1, #F[kind] do t[i] = nil end
  return t
end
local function load(key)
  local s = redis.call('GET', key)
  if not s then return nil end
  local raw = cjson.decode(s)
  local d = { o = raw.o }
  for _, kind in ipairs(DOC) do
    local list = {}
    if type(raw[kind]) == 'table' then
      for _, t in ipairs(raw[kind]) do list[#list + 1] = named(kind, t) end
    end
    d[kind] = list
  end
  return d
end
local function save(key, d)
  local out = { o = d.o }
  for _, kind in ipairs(DOC) do
    if #d[kind] > 0 then
      local list = {}
      for i, r in ipairs(d[kind]) do list[i] = tuple(kind, r) end
      out[kind] = list
    end
  end
  redis.call('SET', key, cjson.encode(out))
end
local function find(list, id)
  for _, r in ipairs(list) do if r.id == id then return r end end
  return nil
end
local function qget(key, id)
  local s = redis.call('HGET', key, id)
  if not s then return nil end
  local r = named('q', cjson.decode(s))
  r.id = id
  return r
end
local function qput(key, r) redis.call('HSET', key, r.id, cjson.encode(tuple('q', r))) end
`;

const script = (name: string, body: string) => luaScript(name, `${PRELUDE}\n${body}`);

/** KEYS: owner document, pending ops. ARGV: payload JSON, ops JSON. */
export const APPLY_CHANGESET = script(
  "apply-changeset",
  `
local O, Q = KEYS[1], KEYS[2]
local P = cjson.decode(ARGV[1])
local d = load(O)
if not d then fail('OW_NOTFOUND unknown owner ' .. P.ownerId) end
if tonumber(d.o.v) ~= tonumber(P.expected) then fail('OW_CONFLICT owner changed concurrently; plan again') end
local oid = P.owner
local function mine(list, id, what)
  local row = find(list, id)
  if row and row.owner_id == oid then return row end
  fail('OW_INVALID ' .. what .. ' ' .. id .. ' is not a record of this owner')
end
local function fresh(list, id, what)
  if find(list, id) then fail('OW_INVALID ' .. what .. ' ' .. id .. ' already exists') end
end
local newWindows = {}
if not isnull(P.consent) then fresh(d.c, P.consent.id, 'consent') end
for _, s in ipairs(P.supersede) do mine(d.c, s.id, 'consent') end
for _, r in ipairs(P.receipts) do fresh(d.r, r.id, 'receipt') end
for _, w in ipairs(P.windows) do fresh(d.w, w.id, 'window'); newWindows[w.id] = w end
for _, s in ipairs(P.revokeWindows) do mine(d.w, s.id, 'window') end
for _, s in ipairs(P.closeWindows) do mine(d.w, s.id, 'window') end
for _, s in ipairs(P.revokeReceipts) do mine(d.r, s.id, 'receipt') end
for _, o in ipairs(P.optOuts) do fresh(d.p, o.id, 'opt-out') end
for _, s in ipairs(P.withdraw) do mine(d.p, s.id, 'opt-out') end
local seen = {}
for _, a in ipairs(d.a) do seen[a.insurer_id .. '\\n' .. a.idempotency_key] = true end
for _, a in ipairs(P.attempts) do
  local key = a.insurer_id .. '\\n' .. a.idempotency_key
  if seen[key] then fail('OW_DUPLICATE attempt ' .. a.idempotency_key .. ' already recorded') end
  seen[key] = true
  fresh(d.a, a.id, 'attempt')
  local w = newWindows[a.window_id] or mine(d.w, a.window_id, 'window')
  if w.insurer_id ~= a.insurer_id then fail('OW_INVALID window ' .. a.window_id .. ' is not a record of this owner') end
end
for _, e in ipairs(P.outbox) do fresh(d.x, e.id, 'outbox entry') end
for _, n in ipairs(P.notices) do fresh(d.n, n.id, 'owner notice') end

local function once(row, field, value) if isnull(row[field]) then row[field] = value end end
local function each(list, changes, fn) for _, s in ipairs(changes) do fn(find(list, s.id), s) end end

if not isnull(P.consent) then table.insert(d.c, P.consent) end
each(d.c, P.supersede, function(r, s) once(r, 'superseded_at', s.at) end)
for _, r in ipairs(P.receipts) do table.insert(d.r, r) end
for _, w in ipairs(P.windows) do table.insert(d.w, w) end
each(d.w, P.revokeWindows, function(r, s) once(r, 'revoked_at', s.at); once(r, 'revoke_reason', s.reason) end)
each(d.w, P.closeWindows, function(r, s) once(r, 'closed_at', s.at) end)
each(d.r, P.revokeReceipts, function(r, s) once(r, 'revoked_at', s.at); once(r, 'revoke_reason', s.reason) end)
for _, o in ipairs(P.optOuts) do table.insert(d.p, o) end
each(d.p, P.withdraw, function(r, s) once(r, 'withdrawn_at', s.at) end)
for _, a in ipairs(P.attempts) do
  table.insert(d.a, a)
  local w = find(d.w, a.window_id)
  w.attempts_used = w.attempts_used + 1
end
for _, e in ipairs(P.outbox) do table.insert(d.x, { id = e.id, insurer_id = e.insurer_id }) end
for _, n in ipairs(P.notices) do table.insert(d.n, n) end
if not isnull(P.renewed) then d.o.re = P.renewed.v end
d.o.cur = nil
for _, c in ipairs(d.c) do
  if isnull(c.superseded_at) and not isnull(c.preferences) then d.o.cur = 1 end
end
d.o.v = d.o.v + 1
d.o.ua = P.now
save(O, d)
if ARGV[2] ~= '[]' then redis.call('HSET', Q, P.opId, ARGV[2]) end
return 'OK'
`,
);

/** KEYS: owner document, pending ops. ARGV: {set, del, now, opId} JSON, ops JSON. Returns the profile JSON. */
export const UPDATE_OWNER = script(
  "update-owner",
  `
local P = cjson.decode(ARGV[1])
local d = load(KEYS[1])
if not d then fail('OW_NOTFOUND unknown owner') end
for field, value in pairs(P.set) do d.o[field] = value end
for _, field in ipairs(P.del) do d.o[field] = nil end
d.o.v = d.o.v + 1
d.o.ua = P.now
save(KEYS[1], d)
if ARGV[2] ~= '[]' then redis.call('HSET', KEYS[2], P.opId, ARGV[2]) end
return cjson.encode(d.o)
`,
);

/** KEYS: owner document, pending ops. ARGV: {at, opId, owner} JSON, ops JSON. Returns all pending ops JSON. */
export const ERASE_OWNER = script(
  "erase-owner",
  `
local O, Q = KEYS[1], KEYS[2]
local P = cjson.decode(ARGV[1])
local d = load(O)
if not d then fail('OW_NOTFOUND unknown owner') end
local oid = P.owner
for _, field in ipairs({ 'g', 'ch', 'pe', 'ph', 'co', 'ne', 've', 'cur' }) do d.o[field] = nil end
d.o.pv = '0'
d.o.ua = P.at
if isnull(d.o.de) then d.o.de = P.at end
d.o.v = d.o.v + 1
local function each(list, fn) for _, r in ipairs(list) do if r.owner_id == oid then fn(r) end end end
each(d.c, function(r) r.preferences = nil end)
each(d.r, function(r) r.owner_id = nil; r.consent_id = nil; r.jws = nil end)
each(d.w, function(r) r.owner_id = nil end)
each(d.p, function(r) r.owner_id = nil end)
local ops = cjson.decode(ARGV[2])
for _, e in ipairs(d.x) do table.insert(ops, { 'qunlink', e.insurer_id, e.id }) end
d.x = {}
d.n = {}
save(O, d)
if #ops == 0 then return '[]' end
local encoded = cjson.encode(ops)
redis.call('HSET', Q, P.opId, encoded)
return encoded
`,
);

/** KEYS: owner document. ARGV: kind, id. The named record JSON, or false. */
export const RECORD_AT = script(
  "record-at",
  `
local d = load(KEYS[1])
if not d then return false end
local row = find(d[ARGV[1]], ARGV[2])
if not row then return false end
return cjson.encode(row)
`,
);

/** KEYS: owner document. ARGV: kind. Every named record of that kind, as JSON, in creation order. */
export const RECORDS_OF = script(
  "records-of",
  `
local d = load(KEYS[1])
if not d then return '[]' end
if #d[ARGV[1]] == 0 then return '[]' end
return cjson.encode(d[ARGV[1]])
`,
);

/**
 * KEYS: owner document, pending ops. ARGV: kind (w|p), id, insurerId, at, opId, owner, member
 * time. Sets acknowledged_at once; returns {row JSON, ops JSON} or nil when not this insurer's.
 */
export const ACKNOWLEDGE = script(
  "acknowledge",
  `
local d = load(KEYS[1])
if not d then return false end
local row = find(d[ARGV[1]], ARGV[2])
if not row or row.insurer_id ~= ARGV[3] then return false end
local ops = '[]'
if isnull(row.acknowledged_at) then
  row.acknowledged_at = tm(ARGV[4])
  save(KEYS[1], d)
  if isnull(row.ack_notified_at) and not isnull(row.owner_id) then
    ops = cjson.encode({ { 'ack', row.id, ARGV[7] .. ' ' .. row.id .. ' ' .. ARGV[1] .. ' ' .. ARGV[6] } })
    redis.call('HSET', KEYS[2], ARGV[5], ops)
  end
end
return { cjson.encode(row), ops }
`,
);

/** KEYS: owner document. ARGV: kind, id, field, time. Sets the field once; 1 if the record exists. */
export const MARK_ONCE = script(
  "mark-once",
  `
local d = load(KEYS[1])
if not d then return 0 end
local row = find(d[ARGV[1]], ARGV[2])
if not row then return 0 end
if isnull(row[ARGV[3]]) then row[ARGV[3]] = tm(ARGV[4]); save(KEYS[1], d) end
return 1
`,
);

/** KEYS: owner document. ARGV: insurerId, phone hash, owner. {windows, opt-outs} as named JSON. */
export const SCRUB_OWNER = script(
  "scrub-owner",
  `
local d = load(KEYS[1])
local windows, optOuts = {}, {}
if not d then return { windows, optOuts } end
if d.o.ph == ARGV[2] then
  for _, r in ipairs(d.w) do
    if r.insurer_id == ARGV[1] and r.owner_id == ARGV[3] then table.insert(windows, cjson.encode(r)) end
  end
end
for _, r in ipairs(d.p) do
  if r.insurer_id == ARGV[1] and r.phone_hash == ARGV[2] then table.insert(optOuts, cjson.encode(r)) end
end
return { windows, optOuts }
`,
);

const CLAIMABLE = `
local function claimable(r, now)
  return r.state == 'pending' and (isnull(r.lease_until) or r.lease_until <= now)
end
`;

/** KEYS: entries, due, dead, counters. ARGV: named row JSON (with id), score, finished score. */
export const QUEUE_INSERT = script(
  "queue-insert",
  `
local row = cjson.decode(ARGV[1])
if redis.call('HEXISTS', KEYS[1], row.id) == 1 then return 0 end
row._qseq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
qput(KEYS[1], row)
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
local row = qget(KEYS[1], ARGV[1])
if row and not isnull(row.owner_id) then row.owner_id = nil; qput(KEYS[1], row) end
return 1
`,
);

/**
 * KEYS: entries, due. ARGV: now ms, limit. Claimable rows, earliest first (read only): the due
 * score is max(dueAt, nextAttemptAt, leaseUntil), so a score up to now is due.
 */
export const QUEUE_PEEK = script(
  "queue-peek",
  `${CLAIMABLE}
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit * 2 + 10)
local out = {}
for _, id in ipairs(ids) do
  local row = qget(KEYS[1], id)
  if row and claimable(row, now) then
    table.insert(out, cjson.encode(row))
    if #out >= limit then break end
  end
end
return out
`,
);

/**
 * KEYS: entries, due. ARGV: now ms, lease-until ms, worker, ids… Leases each id still due and
 * claimable; its due score moves to the lease end, so it leaves the claimable range until the
 * lease expires. Returns the leased rows.
 */
export const QUEUE_LEASE = script(
  "queue-lease",
  `${CLAIMABLE}
local now, untilMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for i = 4, #ARGV do
  local row = qget(KEYS[1], ARGV[i])
  local score = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if row and score and tonumber(score) <= now and claimable(row, now) then
    row.lease_until = untilMs
    row.lease_worker = ARGV[3]
    qput(KEYS[1], row)
    redis.call('ZADD', KEYS[2], untilMs, row.id)
    table.insert(out, cjson.encode(row))
  end
end
return out
`,
);

/**
 * KEYS: entries, due, dead, counters, pending window marks. ARGV: id, worker, result JSON
 * {state, at, iso, next?, nextMs?, error?, finishedMs}. Returns nil if the lease was lost,
 * else {1, window mark JSON or ''}. A finished entry keeps what /status shows; only a dead one
 * keeps its finishing time (dead entries are listed newest first).
 */
export const QUEUE_COMPLETE = script(
  "queue-complete",
  `
local row = qget(KEYS[1], ARGV[1])
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
  row.state = 'delivered'; row.attempts = row.attempts + 1; row.delivered_at = R.at
  finished()
  if row.type == 'window.opened' then
    mark = cjson.encode({ row.subject_id, R.iso })
    redis.call('HSET', KEYS[5], row.id, mark)
  end
elseif R.state == 'retry' then
  row.attempts = row.attempts + 1; row.next_attempt_at = R.next; row.last_error = R.error
  local score = tonumber(R.nextMs)
  local due = tonumber(row.due_at)
  if due and due > score then score = due end
  redis.call('ZADD', KEYS[2], score, row.id)
  if not wasRetrying then redis.call('HINCRBY', KEYS[4], 'retrying', 1) end
elseif R.state == 'dead' then
  row.state = 'dead'; row.attempts = row.attempts + 1; row.last_error = R.error; row.finished_at = R.at
  finished()
  redis.call('ZADD', KEYS[3], R.finishedMs, row.id)
  redis.call('HINCRBY', KEYS[4], 'dead', 1)
else
  row.state = 'skipped'; row.last_error = R.error
  finished()
end
row.lease_until = nil
row.lease_worker = nil
qput(KEYS[1], row)
return { 1, mark }
`,
);

/** KEYS: bucket. ARGV: field, value. The existing value, else sets and returns \`value\`. */
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

/** KEYS: bucket. ARGV: field, value. Deletes the field only while it holds \`value\`. */
export const INDEX_DELETE_IF = script(
  "index-delete-if",
  `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`,
);

/** KEYS: bucket. ARGV: phone hash, owner. Adds the owner to the hash's space-separated list. */
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
