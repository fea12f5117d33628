/**
 * The Lua scripts of the Redis store. None of them parses an owner document (document.ts is
 * the only codec): WRITE_DOC compares the version in a document's header and swaps the whole
 * value. The others work where atomicity across processes is the point — an insurer's queue
 * (leases), index buckets, chunked sorted sets, insurer hashes — each in one hash-tag slot, and
 * each validates before its first write (a Lua error does not roll back earlier writes).
 */
import { CHUNKS } from "./chunked-sets.js";
import { luaScript } from "./commands.js";

const PRELUDE = `
local function fail(msg) error({err = msg}) end
local function isnull(v) return v == nil or v == cjson.null end
`;

const script = (name: string, body: string) => luaScript(name, `${PRELUDE}\n${body}`);

/**
 * KEYS: owner document, its pending index ops. ARGV: the version read ('' for a document that
 * must not exist yet), the newest schema the writer knows, the new document, op id, ops JSON.
 * Replaces the document only while it holds the version read and a schema the writer knows
 * (document.ts header `<schema>:<version>:`), and records the index ops the change implies in
 * the same step, so that a crash before they are applied is repaired (context.ts). Returns how
 * many ops of the owner are pending (this change's included).
 */
export const WRITE_DOC = script(
  "write-doc",
  `
local head = redis.call('GETRANGE', KEYS[1], 0, 40)
if ARGV[1] == '' then
  if head ~= '' then fail('OW_CONFLICT owner changed concurrently; plan again') end
else
  local schema, version = string.match(head, '^(%d+):(%d+):')
  if not schema then fail('OW_CONFLICT owner changed concurrently; plan again') end
  if tonumber(schema) > tonumber(ARGV[2]) then fail('OW_SCHEMA ' .. schema) end
  if version ~= ARGV[1] then fail('OW_CONFLICT owner changed concurrently; plan again') end
end
redis.call('SET', KEYS[1], ARGV[3])
if ARGV[5] ~= '[]' then redis.call('HSET', KEYS[2], ARGV[4], ARGV[5]) end
return redis.call('HLEN', KEYS[2])
`,
);

/**
 * An insurer's queue: `:e` entries (JSON rows, store/rows.ts OutboxRow with `_s` its due score
 * in epoch ms — max(dueAt, nextAttemptAt), or the lease end while leased — `_d` its due time in
 * ms, `_lu` the lease end in ms, `_qseq` its insertion order) and `:due`, a chunked set of
 * `<score as 8 sortable digits> <entry ref>` (ids.ts sortableMs), so the due ones are a range.
 */
const CLAIMABLE = `${CHUNKS}
local function pending(r) return isnull(r.state) or r.state == 'pending' end
local function claimable(r, now) return pending(r) and (isnull(r._lu) or r._lu <= now) end
local DIGITS = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'
local function sortable(ms)
  local out = {}
  ms = math.floor(ms)
  for i = 8, 1, -1 do
    local d = ms % 64
    out[i] = string.sub(DIGITS, d + 1, d + 1)
    ms = (ms - d) / 64
  end
  return table.concat(out)
end
local function qget(key, ref)
  local s = redis.call('HGET', key, ref)
  if not s then return nil end
  return cjson.decode(s)
end
local function qput(key, ref, r) redis.call('HSET', key, ref, cjson.encode(r)) end
local function dueRemove(key, ref, r) if r._s then chunkDel(key, sortable(r._s) .. ' ' .. ref) end end
local function dueAdd(key, ref, r, score) r._s = score; chunkAdd(key, sortable(score) .. ' ' .. ref) end
`;

const INSERT = `
-- Inserts only an entry that is neither queued nor just finished (a replayed insert must not
-- bring a delivered entry back). KEYS as QUEUE_FILE's.
local function insert(ref, json, finishedScore)
  if redis.call('HEXISTS', KEYS[1], ref) == 1 then return 0 end
  if redis.call('HEXISTS', KEYS[5], ref) == 1 then return 0 end
  local row = cjson.decode(json)
  row._qseq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
  if pending(row) then
    dueAdd(KEYS[2], ref, row, tonumber(row._s))
    redis.call('HINCRBY', KEYS[4], 'pending', 1)
    if row.attempts > 0 then redis.call('HINCRBY', KEYS[4], 'retrying', 1) end
  elseif row.state == 'dead' then
    redis.call('ZADD', KEYS[3], finishedScore, ref)
    redis.call('HINCRBY', KEYS[4], 'dead', 1)
  end
  qput(KEYS[1], ref, row)
  return 1
end
`;

/**
 * What one change files for one insurer, in its slot. KEYS: entries, due, dead, counters,
 * finished marks, windows feed, opt-out feeds. ARGV: JSON {w: [feed members], o: [feed
 * members], q: [[entry ref, row JSON (with `_s`, `_d`), finished score], …]}: the feed members
 * first, then the entries (an entry is claimable only once what it is about is listed).
 */
export const QUEUE_FILE = script(
  "queue-file",
  `${CLAIMABLE}${INSERT}
local P = cjson.decode(ARGV[1])
for _, m in ipairs(P.w or {}) do chunkAdd(KEYS[6], m) end
for _, m in ipairs(P.o or {}) do chunkAdd(KEYS[7], m) end
local n = 0
for _, e in ipairs(P.q or {}) do n = n + insert(e[1], e[2], e[3]) end
return n
`,
);

/** KEYS: entries. ARGV: entry ref. The entry stays; its owner link goes (/delete). */
export const QUEUE_UNLINK = script(
  "queue-unlink",
  `
local s = redis.call('HGET', KEYS[1], ARGV[1])
if not s then return 0 end
local row = cjson.decode(s)
if not isnull(row.owner_id) then row.owner_id = nil; redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(row)) end
return 1
`,
);

/** KEYS: entries, due. ARGV: now ms, limit. Claimable rows, earliest first (read only). */
export const QUEUE_PEEK = script(
  "queue-peek",
  `${CLAIMABLE}
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local members = chunkRange(KEYS[2], '-', '[' .. sortable(now) .. ' \\255', limit * 2 + 10)
local out = {}
for _, member in ipairs(members) do
  local s = redis.call('HGET', KEYS[1], string.sub(member, 10))
  if s then
    local row = cjson.decode(s)
    if claimable(row, now) then
      table.insert(out, s)
      if #out >= limit then break end
    end
  end
end
return out
`,
);

/**
 * KEYS: entries, due. ARGV: now ms, lease-until ms, lease-until ISO, worker, refs… Leases each
 * entry still due and claimable; its score moves to the lease end, so it leaves the claimable
 * range until the lease expires. Returns the leased rows.
 */
export const QUEUE_LEASE = script(
  "queue-lease",
  `${CLAIMABLE}
local now, untilMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for i = 5, #ARGV do
  local ref = ARGV[i]
  local row = qget(KEYS[1], ref)
  if row and row._s and row._s <= now and claimable(row, now) then
    dueRemove(KEYS[2], ref, row)
    row._lu = untilMs
    row.lease_until = ARGV[3]
    row.lease_worker = ARGV[4]
    dueAdd(KEYS[2], ref, row, untilMs)
    local s = cjson.encode(row)
    redis.call('HSET', KEYS[1], ref, s)
    table.insert(out, s)
  end
end
return out
`,
);

/**
 * KEYS: entries, due, dead, counters, finished marks, their times. ARGV: a JSON list of completions {ref,
 * worker, state, at, next?, nextMs?, error?, finishedMs}, applied in order. Returns, per item,
 * '' if the lease was lost, else its mark ('-' when it stays queued). A retried entry stays; a
 * dead one stays too, listed by its finishing time. A delivered or skipped one leaves the
 * queue: its final row (the mark) is kept in the marks hash until its owner's document has it
 * (context.ts finishEntries).
 */
export const QUEUE_COMPLETE = script(
  "queue-complete",
  `${CLAIMABLE}
local out = {}
for i, R in ipairs(cjson.decode(ARGV[1])) do
  local ref = R.ref
  local row = qget(KEYS[1], ref)
  if not row or not pending(row) or row.lease_worker ~= R.worker then
    out[i] = ''
  else
    local wasRetrying = row.attempts > 0
    local function finished()
      redis.call('HINCRBY', KEYS[4], 'pending', -1)
      if wasRetrying then redis.call('HINCRBY', KEYS[4], 'retrying', -1) end
    end
    dueRemove(KEYS[2], ref, row)
    row._lu = nil
    row.lease_until = nil
    row.lease_worker = nil
    out[i] = '-'
    if R.state == 'retry' then
      row.attempts = row.attempts + 1; row.next_attempt_at = R.next; row.last_error = R.error
      local score = tonumber(R.nextMs)
      if row._d and row._d > score then score = row._d end
      dueAdd(KEYS[2], ref, row, score)
      if not wasRetrying then redis.call('HINCRBY', KEYS[4], 'retrying', 1) end
      qput(KEYS[1], ref, row)
    elseif R.state == 'dead' then
      row.state = 'dead'; row.attempts = row.attempts + 1; row.last_error = R.error; row.finished_at = R.at
      row._s = nil
      finished()
      redis.call('ZADD', KEYS[3], R.finishedMs, ref)
      redis.call('HINCRBY', KEYS[4], 'dead', 1)
      qput(KEYS[1], ref, row)
    else
      if R.state == 'delivered' then
        row.state = 'delivered'; row.attempts = row.attempts + 1; row.delivered_at = R.at
      else
        row.state = 'skipped'; row.last_error = R.error
      end
      row.finished_at = R.at
      row._s = nil
      finished()
      redis.call('HDEL', KEYS[1], ref)
      out[i] = cjson.encode(row)
      redis.call('HSET', KEYS[5], ref, out[i])
      redis.call('ZADD', KEYS[6], R.finishedMs, ref)
    end
  end
end
return out
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
/**
 * KEYS: bucket. ARGV: field, owner, field, owner, … Adds each owner to its field's
 * space-separated list (the id index: many fields of one change in one call).
 */
export const LIST_ADD_MANY = script(
  "list-add-many",
  `
local added = 0
for i = 1, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local found = false
  if current then
    for owner in string.gmatch(current, '%S+') do if owner == ARGV[i + 1] then found = true end end
  end
  if not found then
    if current then redis.call('HSET', KEYS[1], ARGV[i], current .. ' ' .. ARGV[i + 1])
    else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
    added = added + 1
  end
end
return added
`,
);

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
