/**
 * Lua for the Redis store's sessions (the per-user index's is in src/lib/redis-user-scripts.ts).
 * Each script touches only the one key it is given, so every call is valid under Redis Cluster's
 * slot rules, but for the `_MANY` and ENTRIES_WRITE batches, which run on a single node only. Values are JSON text written by JSON.stringify; `push`
 * and `pull` work on that text rather than through cjson, which cannot tell `[]` from `{}` and
 * reorders object keys: element equality is then exactly the JSON-text equality the other
 * stores use (src/lib/ops.ts).
 */

/** Split the top-level elements of a compact JSON array text. */
const SPLIT = `
local function split(s)
  local out, depth, start, instr, esc = {}, 0, 2, false, false
  local len = #s
  if len <= 2 then return out end
  for p = 2, len - 1 do
    local c = string.byte(s, p)
    if instr then
      if esc then esc = false elseif c == 92 then esc = true elseif c == 34 then instr = false end
    elseif c == 34 then instr = true
    elseif c == 91 or c == 123 then depth = depth + 1
    elseif c == 93 or c == 125 then depth = depth - 1
    elseif c == 44 and depth == 0 then out[#out + 1] = string.sub(s, start, p - 1); start = p + 1 end
  end
  out[#out + 1] = string.sub(s, start, len - 1)
  return out
end

-- Canonical text of one compact JSON value: every object's members sorted, so pull's equality
-- ignores key order as on every store (src/lib/ops.ts canonicalJson). Scalars are left as they
-- are (JSON.stringify writes one text per value).
local canon
local function members(s)
  -- top-level members of a compact object text: {"k":v,...} -> list of "k":v texts
  return split('[' .. string.sub(s, 2, -2) .. ']')
end
canon = function(s)
  local c = string.byte(s, 1)
  if c == 91 then
    local parts = split(s)
    for k, v in ipairs(parts) do parts[k] = canon(v) end
    return '[' .. table.concat(parts, ',') .. ']'
  elseif c == 123 then
    local parts = members(s)
    for k, m in ipairs(parts) do
      -- the key is a JSON string: find its closing quote
      local p, esc = 2, false
      while true do
        local b = string.byte(m, p)
        if esc then esc = false elseif b == 92 then esc = true elseif b == 34 then break end
        p = p + 1
      end
      parts[k] = string.sub(m, 1, p + 1) .. canon(string.sub(m, p + 2))
    end
    table.sort(parts)
    return '{' .. table.concat(parts, ',') .. '}'
  end
  return s
end
`;

/**
 * KEYS[1] session. ARGV: expiresAt, then field/value pairs. Overwrites whatever the key held;
 * returns the user id the overwritten record was bound to, or ''.
 */
/** CREATE unless the hash exists (Redis drops expired keys itself); 1 when written. */
export const INSERT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1`;

export const CREATE = `
local previous = redis.call('HGET', KEYS[1], 'm:u') or ''
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return previous`;

/**
 * Apply a delta to the hash `key`: ARGV[h] now, ARGV[h + 1] expiresAt|'', ARGV[h + 2]
 * lastSeenAt|'' (a write's header), and from index `i` nSet, (field, json)*, nUnset, field*, nOps,
 * (op, field, arg)*. `span(i)` is the index just past a delta that starts at `i`.
 */
/**
 * A data value's JSON text is kept in pieces of at most 64 bytes (`hash-max-listpack-value`), cut
 * between UTF-8 characters: `d:<key>` holds the first, `p:<i>:<key>` the rest, so that one long
 * value does not turn the whole hash into a `hashtable` (about twice the memory). Every piece but
 * the last is 61 bytes or more, so a shorter first piece has no others. `recordFields` in
 * src/lib/redis-records.ts writes a record the same way; a value written whole by an earlier
 * release reads as it is and is cut at its next write.
 */
const DATA_PIECES = `
local function rest(field, i) return 'p:' .. i .. ':' .. string.sub(field, 3) end
local function getv(key, field)
  local v = redis.call('HGET', key, field)
  if not v or #v < 61 then return v end
  local parts, i = {v}, 1
  while true do
    local p = redis.call('HGET', key, rest(field, i))
    if not p then break end
    parts[#parts + 1] = p
    i = i + 1
  end
  return table.concat(parts)
end
local function cut(key, field, i)
  while redis.call('HDEL', key, rest(field, i)) == 1 do i = i + 1 end
end
-- \`bare\`: the value it replaces is known to have no pieces (read by the caller, shorter than
-- 61 bytes, or none), so there are none to remove. A field HSET adds had no value at all.
local function setv(key, field, value, bare)
  local len, pos, i = #value, 1, 0
  repeat
    local stop = math.min(pos + 63, len)
    while stop < len and stop > pos do
      local b = string.byte(value, stop + 1)
      if b < 128 or b > 191 then break end
      stop = stop - 1
    end
    local added = redis.call('HSET', key, i == 0 and field or rest(field, i), string.sub(value, pos, stop))
    if i == 0 and added == 1 then bare = true end
    pos, i = stop + 1, i + 1
  until pos > len
  if not bare then cut(key, field, i) end
end
local function delv(key, field)
  redis.call('HDEL', key, field)
  cut(key, field, 1)
end
`;

const APPLY = `${SPLIT}${DATA_PIECES}
local function span(i)
  i = i + 1 + 2 * tonumber(ARGV[i])
  i = i + 1 + tonumber(ARGV[i])
  return i + 1 + 3 * tonumber(ARGV[i])
end
local function apply(key, h, i)
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do setv(key, ARGV[i], ARGV[i + 1]); i = i + 2 end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do delv(key, ARGV[i]); i = i + 1 end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    local op, field, arg = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    i = i + 3
    local cur = getv(key, field)
    local bare = not cur or #cur < 61
    if op == 'push' then
      if cur and string.byte(cur, 1) == 91 then
        if cur == '[]' then cur = arg elseif arg ~= '[]' then cur = string.sub(cur, 1, -2) .. ',' .. string.sub(arg, 2) end
      else cur = arg end
      setv(key, field, cur, bare)
    elseif op == 'pull' then
      if cur and string.byte(cur, 1) == 91 then
        local drop = {}
        for _, v in ipairs(split(arg)) do drop[canon(v)] = true end
        local kept = {}
        for _, v in ipairs(split(cur)) do if not drop[canon(v)] then kept[#kept + 1] = v end end
        setv(key, field, '[' .. table.concat(kept, ',') .. ']', bare)
      end
    elseif op == 'increment' then
      local num = 0
      if cur and string.match(cur, '^%-?%d') then num = tonumber(cur) or 0 end
      local sum = num + tonumber(arg)
      -- A result JSON cannot carry (inf, nan) is never written: the value stays as it was.
      if sum == sum and sum ~= math.huge and sum ~= -math.huge then
        setv(key, field, string.format('%.17g', sum), bare)
      end
    end
  end
  if ARGV[h + 1] ~= '' then
    redis.call('HSET', key, 'm:e', ARGV[h + 1])
    redis.call('PEXPIREAT', key, ARGV[h + 1])
  end
  if ARGV[h + 2] ~= '' then redis.call('HSET', key, 'm:l', ARGV[h + 2]) end
end
local function alive(key, h)
  local e = redis.call('HGET', key, 'm:e')
  return e and tonumber(e) > tonumber(ARGV[h])
end
`;

/** UPDATE without the hash sent back: 1 when written, 0 when the session is gone. */
export const APPLY_ONLY = `${APPLY}
if not alive(KEYS[1], 1) then return 0 end
apply(KEYS[1], 1, 4)
return 1`;

/**
 * APPLY_ONLY for several sessions on one node (a turn's writes, src/stores/redis.ts; never on a
 * Cluster, whose sessions live in slots of their own): KEYS the sessions, ARGV each one's header
 * and delta in turn (as APPLY_ONLY's ARGV). Returns 1 or 0 per session.
 */
export const APPLY_MANY = `${APPLY}
local h, out = 1, {}
for k = 1, #KEYS do
  local after = span(h + 3)
  if alive(KEYS[k], h) then
    apply(KEYS[k], h, h + 3)
    out[k] = 1
  else
    out[k] = 0
  end
  h = after
end
return out`;

/**
 * KEYS[1] session. ARGV: now, expiresAt|'', lastSeenAt|'', then the delta (see APPLY). Returns 0
 * when the session is gone (nothing written), else the hash after the write as field/value pairs.
 */
export const UPDATE = `${APPLY}
if not alive(KEYS[1], 1) then return 0 end
apply(KEYS[1], 1, 4)
return redis.call('HGETALL', KEYS[1])`;

/**
 * Regenerate on a single node, as one script: KEYS[1] old session, KEYS[2] new session, KEYS[3]
 * the new user's index (absent for an anonymous result). ARGV: now, expiresAt|'', lastSeenAt|'',
 * userId|'', then the delta. Returns {0} when the old session is gone, else {1, previous user id
 * or '', the new hash as field/value pairs}. RENAME keeps the TTL the delta set.
 */
export const REGENERATE = `${APPLY}
local old, new = KEYS[1], KEYS[2]
if not alive(old, 1) then return {0} end
apply(old, 1, 5)
local previous = redis.call('HGET', old, 'm:u') or ''
if ARGV[4] == '' then redis.call('HDEL', old, 'm:u') else redis.call('HSET', old, 'm:u', ARGV[4]) end
local absolute = redis.call('HGET', old, 'm:a')
redis.call('RENAME', old, new)
if KEYS[3] then
  local idx = KEYS[3]
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', ARGV[1])
  if previous == ARGV[4] then redis.call('ZREM', idx, string.match(old, '{(.*)}$')) end
  redis.call('ZADD', idx, absolute, string.match(new, '{(.*)}$'))
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', idx, top[2])
end
return {1, previous, redis.call('HGETALL', new)}`;

/**
 * The first half of a regenerate on Redis Cluster (the new key lives in another slot): KEYS[1]
 * old session. ARGV as REGENERATE. Applies the delta to the live record, binds the user, deletes
 * it and returns it: {0} when gone, else {1, previous user id or '', field/value pairs}.
 */
export const TAKE = `${APPLY}
local old = KEYS[1]
if not alive(old, 1) then return {0} end
apply(old, 1, 5)
local previous = redis.call('HGET', old, 'm:u') or ''
if ARGV[4] == '' then redis.call('HDEL', old, 'm:u') else redis.call('HSET', old, 'm:u', ARGV[4]) end
local all = redis.call('HGETALL', old)
redis.call('DEL', old)
return {1, previous, all}`;

/**
 * KEYS[1] session. ARGV: now, expiresAt, lastSeenAt. The hash after the write as field/value
 * pairs when extended, 0 when gone.
 */
export const TOUCH = `
local e = redis.call('HGET', KEYS[1], 'm:e')
if not e or tonumber(e) <= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'm:e', ARGV[2], 'm:l', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return redis.call('HGETALL', KEYS[1])`;

/**
 * KEYS[1] session. ARGV[1] (optional) a user id: then the session is deleted only while bound to
 * that user. Returns {deleted, user id or ''}. Never parses the record.
 */
export const DESTROY = `
local user = redis.call('HGET', KEYS[1], 'm:u') or ''
if ARGV[1] and ARGV[1] ~= user then return {0, user} end
return {redis.call('DEL', KEYS[1]), user}`;

/**
 * KEYS[1] session. The whole hash as one JSON text (a flat array of fields and values, `{}` when
 * the key is missing): one string to decode instead of one per field and value. In Redis it
 * costs ~3.6 µs against HGETALL's ~0.8 (redis-benchmark, a session of 8 fields; the Lua call, not
 * cjson), and it saves the app ~6 µs of decoding per read. `no-writes`: a read-only script.
 */
export const READ = `#!lua flags=no-writes
return cjson.encode(redis.call('HGETALL', KEYS[1]))`;

/** READ for several sessions on one node (a turn's gets; never on a Cluster): one text per key. */
export const READ_MANY = `#!lua flags=no-writes
local out = {}
for k = 1, #KEYS do out[k] = cjson.encode(redis.call('HGETALL', KEYS[k])) end
return out`;

/**
 * cachedStore's cache entry writes: KEYS the entries (several only on a single node, a turn's
 * batch in src/lib/redis-batches.ts; one on a Cluster); ARGV per entry, in turn, `mode, expected,
 * value, ttl`. Mode `s` writes `value` for `ttl` ms (SET … PX); `r` only while the entry is exactly
 * `expected` (a fill under its lease); `a` (advance, after a write to a primary that versions its
 * records) only over a record of a lower version than `expected`, an entry `V<version>:…`: a lease
 * (`L…`) or a record of no known version (`R…`) is removed instead, since it may hold something
 * older than the write, and a missing entry stays missing (a destroy removed it: a late write must
 * not bring it back). Mode `p` (patch) applies the change `value` to a versioned record exactly
 * one version below `expected` (src/lib/cache-sides.ts has the layout of both) and raises it to
 * `expected`, keeping its lifetime when `ttl` is 0; an entry of a lower version, or not versioned,
 * is removed, and one of `expected` or higher is left as it is. Returns 1 or 0 per entry: whether
 * it was written.
 */
export const ENTRIES_WRITE = `
-- A versioned record 'V<version>:<expiresAt>:<lastSeenAt>:<fields>' then '\\n<key>:<value>' per
-- data key, with the change '<expiresAt>\\n<lastSeenAt>\\n' then '-<key>\\n' per removed data key
-- and '+<key>\\n<value>\\n' per set one (keys and values as JSON text). Compact JSON has no raw
-- newline, so '\\n<key>:' can only be the start of that key's line: plain finds, no parsing.
-- Removals first, as the primary applies them. Nil when 'cur' is not in that layout.
local function patch(cur, version, change)
  local e, l, at = string.match(cur, '^V%d+:(%d+):(%d+):()')
  if not at then return nil end
  local nl = string.find(cur, '\\n', at, true) or #cur + 1
  local fields, body = string.sub(cur, at, nl - 1), string.sub(cur, nl)
  local stop = string.find(change, '\\n', 1, true)
  if stop > 1 then e = string.sub(change, 1, stop - 1) end
  local pos = stop + 1
  stop = string.find(change, '\\n', pos, true)
  if stop > pos then l = string.sub(change, pos, stop - 1) end
  pos = stop + 1
  while pos <= #change do
    stop = string.find(change, '\\n', pos, true)
    local sign, key = string.byte(change, pos), string.sub(change, pos + 1, stop - 1)
    pos = stop + 1
    local line = '\\n' .. key .. ':'
    local from = string.find(body, line, 1, true)
    local to = from and (string.find(body, '\\n', from + 1, true) or #body + 1)
    if sign == 43 then
      stop = string.find(change, '\\n', pos, true)
      line = line .. string.sub(change, pos, stop - 1)
      pos = stop + 1
      if from then body = string.sub(body, 1, from - 1) .. line .. string.sub(body, to)
      else body = body .. line end
    elseif from then
      body = string.sub(body, 1, from - 1) .. string.sub(body, to)
    end
  end
  return 'V' .. version .. ':' .. e .. ':' .. l .. ':' .. fields .. body
end
local out = {}
for k = 1, #KEYS do
  local a = (k - 1) * 4
  local mode = ARGV[a + 1]
  local value = ARGV[a + 3]
  local write = mode == 's'
  if mode == 'r' then
    write = redis.call('GET', KEYS[k]) == ARGV[a + 2]
  elseif mode == 'a' or mode == 'p' then
    local cur = redis.call('GET', KEYS[k])
    if cur then
      local have = tonumber(string.match(cur, '^V(%d+):'))
      local want = tonumber(ARGV[a + 2])
      if mode == 'p' and have == want - 1 then
        value = patch(cur, want, value)
        write = value ~= nil
      elseif have then
        write = mode == 'a' and have < want
      end
      if not write and (not have or have < want) then redis.call('DEL', KEYS[k]) end
    end
  end
  if write then
    if ARGV[a + 4] == '0' then
      redis.call('SET', KEYS[k], value, 'KEEPTTL')
    else
      redis.call('SET', KEYS[k], value, 'PX', ARGV[a + 4])
    end
    out[k] = 1
  else
    out[k] = 0
  end
end
return out`;
