/**
 * Chunked sorted sets: the Lua helpers every large lexicographic set uses (feeds, work lists,
 * claimable entries), and the scripts that add to, remove from and range over one.
 */
import { luaScript } from "./commands.js";

/**
 * Chunked sorted sets. A large lexicographic set (an insurer's feed, a shard of a work list)
 * is a directory (the base key, members `<low member>\t<n>`) of chunks (`<base>:<n>`, each at
 * most CHUNK members), so every chunk stays a compact listpack (Redis keeps a sorted set one
 * only up to 128 members); `<base>:n` numbers the chunks. A chunk holds the members from its
 * low up to the next chunk's low. All keys share the base's hash tag: one slot per set.
 */
export const CHUNKS = `
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
