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
import { DOC_KINDS, DOC_TIMES, FIELD_ORDER } from "./codec.js";
import { luaScript } from "./commands.js";

const PRELUDE = `
local function fail(msg) error({err = msg}) end
local function isnull(v) return v == nil or v == cjson.null end
local function tm(v) return tonumber(v) or v end
local F = cjson.decode([==[${JSON.stringify(FIELD_ORDER)}]==])
local DOC = cjson.decode([==[${JSON.stringify(DOC_KINDS)}]==])
local TIMES = {}
for kind, list in pairs(cjson.decode([==[${JSON.stringify(DOC_TIMES)}]==])) do
  TIMES[kind] = {}
  for _, f in ipairs(list) do TIMES[kind][f] = true end
end
-- Document lists (codec.ts unpackRecords): {} repeats the field of the record before; true
-- repeats every field from there on; an id '^' + k shares its first 22 - k digits with the
-- id of the record before it in the document; owner_id 1 is the document's owner; an instant is
-- stored as milliseconds after the profile's creation (ca); an outbox entry's insurer_id 1 is
-- its subject's. Queue rows are stored plain (no before, no ref, no document).
local function plainRef(v)
  if type(v) ~= 'string' or #v ~= 22 then return false end
  local c = string.sub(v, 1, 1)
  return c ~= '!' and c ~= '~' and c ~= '^'
end
-- In a document, a timezone, phone hash, jurisdiction or language equal to the profile's is
-- stored as 1, and a
-- reference to another record of the document as its position (an outbox entry's subject:
-- an opt-out's, or minus a window's).
local PROFILE_REF = { timezone = 'tz', phone_hash = 'ph', jurisdiction = 'j', language = 'l', name_enc = 'ne', vehicle_enc = 've' }
local REFS = { w = { receipt_id = 'r', consent_id = 'c' }, r = { consent_id = 'c' }, x = { subject_id = 'x' } }
local function resolve(d, kind, f, v)
  local target = REFS[kind] and REFS[kind][f]
  if not target or type(v) ~= 'number' then return v end
  local row
  if target == 'x' then
    if v > 0 then row = d.p[v] else row = d.w[-v] end
  else row = d[target][v] end
  if row then return row.id end
  return nil
end
local function position(d, kind, f, v)
  local target = REFS[kind] and REFS[kind][f]
  if not target then return v end
  local lists = { { target, 1 } }
  if target == 'x' then lists = { { 'p', 1 }, { 'w', -1 } } end
  for _, l in ipairs(lists) do
    for i, row in ipairs(d[l[1]]) do if row.id == v then return i * l[2] end end
  end
  return v
end
local function subjectOf(d, id)
  for _, l in ipairs({ 'p', 'w' }) do
    for _, row in ipairs(d[l]) do if row.id == id then return row end end
  end
  return nil
end
local function since(d) return tonumber(d.o.ca) or 0 end
-- the profile's update time, kept like record instants (codec.ts decodeProfile)
local function touch(d, at)
  if type(at) == 'number' then d.o.ua = at - since(d) else d.o.ua = at end
end
local function named(kind, t, before, ref, d, prevId)
  local r = {}
  local fields = F[kind]
  for i, f in ipairs(fields) do
    local v = t[i]
    if v == true then
      for j = i, #fields do
        if before and not isnull(before[fields[j]]) then r[fields[j]] = before[fields[j]] end
      end
      break
    end
    if type(v) == 'table' then
      if before then v = before[f] else v = nil end
    elseif f == 'owner_id' and v == 1 and ref then v = ref
    elseif d and v == 1 and PROFILE_REF[f] then v = d.o[PROFILE_REF[f]]
    elseif d and type(v) == 'number' and TIMES[kind] and TIMES[kind][f] then v = v + since(d)
    elseif d and type(v) == 'number' then v = resolve(d, kind, f, v)
    elseif f == 'id' and prevId and type(v) == 'string' and string.sub(v, 1, 1) == '^' then
      v = string.sub(prevId, 1, 23 - #v) .. string.sub(v, 2)
    end
    if not isnull(v) then r[f] = v end
  end
  if d and kind == 'x' and r.insurer_id == 1 then
    local subject = subjectOf(d, r.subject_id)
    r.insurer_id = subject and subject.insurer_id
  end
  -- an opt-out without a match key has its owner's phone's (context.ts decode): readers get
  -- the encrypted phone beside it (never stored: tuple() writes only the listed fields)
  if d and kind == 'p' and isnull(r.match_key) and not isnull(d.o.pe) then r._pe = d.o.pe end
  return r
end
-- Before the phone changes or goes: the match keys of opt-outs that stored none (they were the
-- old phone's), computed by the store; one missing means an opt-out came since its read.
local function keepMatchKeys(d, keys)
  for _, r in ipairs(d.p) do
    if isnull(r.match_key) then
      if type(keys) ~= 'table' or isnull(keys[r.id]) then fail('OW_CONFLICT owner changed concurrently; plan again') end
      r.match_key = keys[r.id]
    end
  end
end
-- how many leading characters two ids share
local function shared(a, b)
  local n = 0
  while n < #a and string.byte(a, n + 1) == string.byte(b, n + 1) do n = n + 1 end
  return n
end
local function same(a, b)
  if isnull(a) then return isnull(b) end
  return a == b
end
local function tuple(kind, r, before, ref, d, prevId)
  local t, n = {}, 0
  local fields = F[kind]
  local rest = #fields + 1
  if before then
    while rest > 1 and same(r[fields[rest - 1]], before[fields[rest - 1]]) do rest = rest - 1 end
    local worth = 0
    for j = rest, #fields do if not isnull(r[fields[j]]) then worth = worth + 1 end end
    if worth < 2 then rest = #fields + 1 end
  end
  for i = 1, rest - 1 do
    local f = fields[i]
    local v = r[f]
    if isnull(v) then t[i] = cjson.null
    else
      if before and before[f] == v and string.len(tostring(v)) > 2 then t[i] = {}
      elseif f == 'owner_id' and ref and v == ref then t[i] = 1
      elseif d and PROFILE_REF[f] and v == d.o[PROFILE_REF[f]] then t[i] = 1
      elseif d and type(v) == 'string' and REFS[kind] and REFS[kind][f] then t[i] = position(d, kind, f, v)
      elseif d and type(v) == 'number' and TIMES[kind] and TIMES[kind][f] then t[i] = v - since(d)
      elseif d and kind == 'x' and f == 'insurer_id' and not isnull(r.subject_id)
        and (subjectOf(d, r.subject_id) or {}).insurer_id == v then t[i] = 1
      elseif f == 'id' and prevId and plainRef(v) and plainRef(prevId) and shared(v, prevId) > 1 then
        t[i] = '^' .. string.sub(v, shared(v, prevId) + 1)
      else t[i] = v end
      n = i
    end
  end
  if rest <= #fields then
    t[rest] = true
    return t
  end
  for i = n + 1, #fields do t[i] = nil end
  return t
end
local function refOf(key) return string.match(key, '{o:([^}]*)}') end
local function load(key)
  local s = redis.call('GET', key)
  if not s then return nil end
  local raw = cjson.decode(s)
  local ref = refOf(key)
  local d = { o = raw.o }
  local prevId
  for _, kind in ipairs(DOC) do
    local list = {}
    d[kind] = list
    if type(raw[kind]) == 'table' then
      for _, t in ipairs(raw[kind]) do
        list[#list + 1] = named(kind, t, list[#list], ref, d, prevId)
        prevId = list[#list].id
      end
    end
  end
  return d
end
local function save(key, d)
  local out = { o = d.o }
  local ref = refOf(key)
  local prevId
  for _, kind in ipairs(DOC) do
    if #d[kind] > 0 then
      local list = {}
      for i, r in ipairs(d[kind]) do
        list[i] = tuple(kind, r, d[kind][i - 1], ref, d, prevId)
        prevId = r.id
      end
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

/**
 * KEYS: owner document, pending ops. ARGV: payload JSON (with `profile`: {set, del, matchKeys}
 * for a changeset that puts a new phone on file, as UPDATE_OWNER), ops JSON.
 */
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
-- a new phone (profile): the old phone's opt-outs keep their match keys, before anything else
-- (the same number shared again changes nothing they derive from)
if not isnull(P.profile) and not isnull(d.o.pe) and P.profile.set.ph ~= d.o.ph then
  keepMatchKeys(d, P.profile.matchKeys)
end

local function once(row, field, value) if isnull(row[field]) then row[field] = value end end
local function each(list, changes, fn) for _, s in ipairs(changes) do fn(find(list, s.id), s) end end

if not isnull(P.consent) then table.insert(d.c, P.consent) end
each(d.c, P.supersede, function(r, s) once(r, 'superseded_at', s.at) end)
for _, r in ipairs(P.receipts) do
  -- an agreed name or vehicle sent as 1 is the profile's, as of the version checked above
  for _, f in ipairs({ 'name_enc', 'vehicle_enc' }) do
    if r[f] == 1 then
      if isnull(d.o[PROFILE_REF[f]]) then fail('OW_CONFLICT owner changed concurrently; plan again') end
      r[f] = d.o[PROFILE_REF[f]]
    end
  end
  table.insert(d.r, r)
end
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
if not isnull(P.profile) then
  for field, value in pairs(P.profile.set) do d.o[field] = value end
  for _, field in ipairs(P.profile.del) do d.o[field] = nil end
end
d.o.v = d.o.v + 1
touch(d, P.now)
save(O, d)
if ARGV[2] ~= '[]' then redis.call('HSET', Q, P.opId, ARGV[2]) end
return 'OK'
`,
);

/**
 * KEYS: owner document, pending ops. ARGV: {set, del, now, opId, matchKeys} JSON (matchKeys:
 * opt-out ref → match key, for the opt-outs storing none, when the phone changes), ops JSON.
 * Returns the profile JSON.
 */
export const UPDATE_OWNER = script(
  "update-owner",
  `
local P = cjson.decode(ARGV[1])
local d = load(KEYS[1])
if not d then fail('OW_NOTFOUND unknown owner') end
-- the same number again (a new ciphertext, the same hash) is no change for the match keys
local phoneChanges = P.set.ph ~= nil and P.set.ph ~= d.o.ph
for _, field in ipairs(P.del) do if field == 'pe' then phoneChanges = true end end
if phoneChanges and not isnull(d.o.pe) then keepMatchKeys(d, P.matchKeys) end
for field, value in pairs(P.set) do d.o[field] = value end
for _, field in ipairs(P.del) do d.o[field] = nil end
d.o.v = d.o.v + 1
touch(d, P.now)
save(KEYS[1], d)
if ARGV[2] ~= '[]' then redis.call('HSET', KEYS[2], P.opId, ARGV[2]) end
return cjson.encode(d.o)
`,
);

/**
 * KEYS: owner document, pending ops. ARGV: {at, opId, owner, hashes, matchKeys} JSON (hashes:
 * receipt ref → payload hash, for the receipts whose JWS goes; matchKeys: opt-out ref → match
 * key, for the opt-outs storing none), ops JSON. Returns all pending ops JSON.
 */
export const ERASE_OWNER = script(
  "erase-owner",
  `
local O, Q = KEYS[1], KEYS[2]
local P = cjson.decode(ARGV[1])
local d = load(O)
if not d then fail('OW_NOTFOUND unknown owner') end
local oid = P.owner
-- A receipt keeps its payload hash, which its JWS stood for (codec.ts): the store computed them.
for _, r in ipairs(d.r) do
  if r.owner_id == oid and isnull(r.payload_hash) then
    if isnull(P.hashes[r.id]) then fail('OW_CONFLICT owner changed concurrently; plan again') end
    r.payload_hash = P.hashes[r.id]
  end
end
if not isnull(d.o.pe) then keepMatchKeys(d, P.matchKeys) end
for _, field in ipairs({ 'g', 'ch', 'pe', 'ph', 'co', 'ne', 've', 'cur' }) do d.o[field] = nil end
d.o.pv = 0
touch(d, P.at)
if isnull(d.o.de) then d.o.de = P.at end
d.o.v = d.o.v + 1
local function each(list, fn) for _, r in ipairs(list) do if r.owner_id == oid then fn(r) end end end
each(d.c, function(r) r.preferences = nil end)
each(d.r, function(r) r.owner_id = nil; r.consent_id = nil; r.jws = nil; r.name_enc = nil; r.vehicle_enc = nil end)
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

/**
 * Chunked sorted sets. A large lexicographic set (an insurer's feed, a shard of a work list)
 * is a directory (the base key, members `<low member>\t<n>`) of chunks (`<base>:<n>`, each at
 * most CHUNK members), so every chunk stays a compact listpack (Redis keeps a sorted set one
 * only up to 128 members); `<base>:n` numbers the chunks. A chunk holds the members from its
 * low up to the next chunk's low. All keys share the base's hash tag: one slot per set.
 */
const CHUNKS = `
local CHUNK = 120
local function chunkKey(base, n) return base .. ':' .. n end
local function chunkNo(e) return string.match(e, '\\t(%d+)$') end
local function chunkLow(e) return string.match(e, '^(.*)\\t%d+$') end
-- byte order, as Redis compares members (Lua's < follows the server's locale)
local function less(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
-- the directory entry of the chunk for member m, and whether m lies below every chunk
local function entryFor(base, m)
  local e = redis.call('ZREVRANGEBYLEX', base, '[' .. m .. '\\t\\255', '-', 'LIMIT', 0, 1)[1]
  if e then return e, false end
  return redis.call('ZRANGEBYLEX', base, '-', '+', 'LIMIT', 0, 1)[1], true
end
local function chunkAdd(base, m)
  local e, below = entryFor(base, m)
  local n
  if not e then
    n = redis.call('INCR', base .. ':n')
    redis.call('ZADD', base, 0, m .. '\\t' .. n)
  else
    n = chunkNo(e)
    if below then
      redis.call('ZREM', base, e)
      redis.call('ZADD', base, 0, m .. '\\t' .. n)
    end
  end
  local key = chunkKey(base, n)
  local added = redis.call('ZADD', key, 0, m)
  if added == 1 and redis.call('ZCARD', key) > CHUNK then
    local upper = redis.call('ZRANGE', key, CHUNK / 2, -1)
    local n2 = redis.call('INCR', base .. ':n')
    local args = {}
    for _, u in ipairs(upper) do args[#args + 1] = 0; args[#args + 1] = u end
    redis.call('ZADD', chunkKey(base, n2), unpack(args))
    redis.call('ZREM', key, unpack(upper))
    redis.call('ZADD', base, 0, upper[1] .. '\\t' .. n2)
  end
  return added
end
local function chunkDel(base, m)
  local e, below = entryFor(base, m)
  if not e or below then return 0 end
  local key = chunkKey(base, chunkNo(e))
  local removed = redis.call('ZREM', key, m)
  if removed == 1 and redis.call('EXISTS', key) == 0 then redis.call('ZREM', base, e) end
  return removed
end
-- like ZRANGEBYLEX base min max LIMIT 0 limit, across the chunks
local function chunkRange(base, min, max, limit)
  local out = {}
  local e
  if min == '-' then e = redis.call('ZRANGEBYLEX', base, '-', '+', 'LIMIT', 0, 1)[1]
  else e = entryFor(base, string.sub(min, 2)) end
  local bound = string.sub(max, 2)
  while e and #out < limit do
    local got = redis.call('ZRANGEBYLEX', chunkKey(base, chunkNo(e)), min, max, 'LIMIT', 0, limit - #out)
    for _, m in ipairs(got) do out[#out + 1] = m end
    if #out >= limit then break end
    e = redis.call('ZRANGEBYLEX', base, '(' .. e, '+', 'LIMIT', 0, 1)[1]
    if e and max ~= '+' then
      local low = chunkLow(e)
      if less(bound, low) or (string.sub(max, 1, 1) == '(' and low == bound) then break end
    end
  end
  return out
end
`;

/**
 * An insurer's claimable entries are a chunked set of `<due score as 8 sortable digits>
 * <entry ref>`, the score being the lease end while leased, else max(dueAt, nextAttemptAt),
 * in epoch ms (codec.ts sortableMs). An entry's fields give its score, so its member can be
 * found again; where they do not (times kept as text), the entry keeps it in \`_s\`. A
 * pending entry has no \`state\` (codec.ts).
 */
const CLAIMABLE = `${CHUNKS}
local function pending(r) return isnull(r.state) or r.state == 'pending' end
local function claimable(r, now)
  return pending(r) and (isnull(r.lease_until) or r.lease_until <= now)
end
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
local function derived(r)
  if not isnull(r.lease_until) then return tonumber(r.lease_until) end
  local due, nxt = tonumber(r.due_at), tonumber(r.next_attempt_at)
  if due and nxt and nxt > due then return nxt end
  return due
end
local function scoreOf(r)
  if not isnull(r._s) then return r._s end
  return derived(r)
end
-- a pending entry leaves the claimable set (before its fields change) ...
local function dueRemove(key, r)
  local score = scoreOf(r)
  if score then chunkDel(key, sortable(score) .. ' ' .. r.id) end
  r._s = nil
end
-- ... and joins it again (after they changed)
local function dueAdd(key, r, score)
  if derived(r) ~= score then r._s = score else r._s = nil end
  chunkAdd(key, sortable(score) .. ' ' .. r.id)
end
`;

/**
 * KEYS: entries, due, dead, counters, finished marks. ARGV: named row JSON (with id), score,
 * finished score. Inserts only an entry that is neither queued nor just finished (a replayed
 * insert must not bring a delivered entry back).
 */
export const QUEUE_INSERT = script(
  "queue-insert",
  `${CLAIMABLE}
local row = cjson.decode(ARGV[1])
if redis.call('HEXISTS', KEYS[1], row.id) == 1 then return 0 end
if redis.call('HEXISTS', KEYS[5], row.id) == 1 then return 0 end
row._qseq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
if pending(row) then
  local score = tonumber(ARGV[2])
  if not score then fail('OW_INVALID outbox entry ' .. row.id .. ' has no due time') end
  dueAdd(KEYS[2], row, score)
end
qput(KEYS[1], row)
if pending(row) then
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
local members = chunkRange(KEYS[2], '-', '[' .. sortable(now) .. ' \\255', limit * 2 + 10)
local out = {}
for _, member in ipairs(members) do
  local row = qget(KEYS[1], string.sub(member, 10))
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
  local score = row and scoreOf(row)
  if row and score and score <= now and claimable(row, now) then
    dueRemove(KEYS[2], row)
    row.lease_until = untilMs
    row.lease_worker = ARGV[3]
    dueAdd(KEYS[2], row, untilMs)
    qput(KEYS[1], row)
    table.insert(out, cjson.encode(row))
  end
end
return out
`,
);

/**
 * KEYS: entries, due, dead, counters, finished marks. ARGV: id, worker, result JSON {state,
 * at, next?, nextMs?, error?, finishedMs}. Returns nil if the lease was lost, else {1, mark}.
 * A retried entry stays; a dead one stays too, listed by its finishing time. A delivered or
 * skipped one leaves the queue: the mark (the finished row, JSON, also kept in the marks hash
 * until its owner's document has it) is what the store copies into the owner's document.
 */
export const QUEUE_COMPLETE = script(
  "queue-complete",
  `${CLAIMABLE}
local row = qget(KEYS[1], ARGV[1])
if not row or not pending(row) or row.lease_worker ~= ARGV[2] then return false end
local R = cjson.decode(ARGV[3])
local wasRetrying = row.attempts > 0
local mark = ''
dueRemove(KEYS[2], row)
local function finished()
  redis.call('HINCRBY', KEYS[4], 'pending', -1)
  if wasRetrying then redis.call('HINCRBY', KEYS[4], 'retrying', -1) end
end
row.lease_until = nil
row.lease_worker = nil
if R.state == 'retry' then
  row.attempts = row.attempts + 1; row.next_attempt_at = R.next; row.last_error = R.error
  local score = tonumber(R.nextMs)
  local due = tonumber(row.due_at)
  if due and due > score then score = due end
  dueAdd(KEYS[2], row, score)
  if not wasRetrying then redis.call('HINCRBY', KEYS[4], 'retrying', 1) end
  qput(KEYS[1], row)
elseif R.state == 'dead' then
  row.state = 'dead'; row.attempts = row.attempts + 1; row.last_error = R.error; row.finished_at = R.at
  finished()
  redis.call('ZADD', KEYS[3], R.finishedMs, row.id)
  redis.call('HINCRBY', KEYS[4], 'dead', 1)
  qput(KEYS[1], row)
else
  if R.state == 'delivered' then
    row.state = 'delivered'; row.attempts = row.attempts + 1; row.delivered_at = R.at
  else
    row.state = 'skipped'; row.last_error = R.error
  end
  finished()
  redis.call('HDEL', KEYS[1], row.id)
  mark = cjson.encode(row)
  redis.call('HSET', KEYS[5], row.id, mark)
end
return { 1, mark }
`,
);

/**
 * KEYS: owner document. ARGV: the finished entry's x row JSON (named, encoded), window ref
 * (or ''), delivered-at. Fills the owner's reference to the entry with the finished entry
 * (once), and a delivered window.opened sets its window's deliveredAt (once). 1 if the owner
 * has the entry.
 */
export const MARK_DONE = script(
  "mark-done",
  `
local d = load(KEYS[1])
if not d then return 0 end
local x = cjson.decode(ARGV[1])
local ref = find(d.x, x.id)
if not ref then return 0 end
if isnull(ref.state) then
  for i, r in ipairs(d.x) do if r.id == x.id then d.x[i] = x end end
  if ARGV[2] ~= '' then
    local w = find(d.w, ARGV[2])
    if w and isnull(w.delivered_at) then w.delivered_at = tm(ARGV[3]) end
  end
  save(KEYS[1], d)
end
return 1
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

/** KEYS: a chunked set's base. ARGV: members. Adds them; returns how many were new. */
export const CHUNKED_ADD = luaScript(
  "chunked-add",
  `${CHUNKS}
local n = 0
for i = 1, #ARGV do n = n + chunkAdd(KEYS[1], ARGV[i]) end
return n
`,
);

/** KEYS: a chunked set's base. ARGV: members. Removes them; returns how many there were. */
export const CHUNKED_DEL = luaScript(
  "chunked-del",
  `${CHUNKS}
local n = 0
for i = 1, #ARGV do n = n + chunkDel(KEYS[1], ARGV[i]) end
return n
`,
);

/** KEYS: a chunked set's base. ARGV: min, max (ZRANGEBYLEX syntax), limit. The members, in order. */
export const CHUNKED_RANGE = luaScript(
  "chunked-range",
  `${CHUNKS}
return chunkRange(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]))
`,
);
