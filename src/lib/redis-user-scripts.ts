/**
 * Lua for the Redis store's per-user index: a sorted set of a user's session keys, scored by
 * absolute expiry, and the scripts that list, sign out and trim a user's sessions through it
 * (on a Cluster, the per-node ones: src/lib/redis-cluster.ts). The sessions' own scripts are in
 * src/lib/redis-scripts.ts.
 */

/**
 * KEYS[1] a user's index (sorted set of session keys, scored by absolute expiry). ARGV: now,
 * score, member. Drops members past their absolute expiry and keeps the index alive exactly as
 * long as its longest-lived member, so it never outgrows the user's live sessions.
 */
export const INDEX_ADD = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
return 1`;

/**
 * Single node: KEYS[1] a user's index. ARGV: prefix, userId, except|'', then the keys to delete
 * (none: every key in the index). Deletes each session still bound to the user, drops dead or
 * foreign entries from the index, never parses a record; returns the keys deleted.
 */
export const DESTROY_USER = `
local idx, prefix, user, except = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local keys = {}
if #ARGV > 3 then for i = 4, #ARGV do keys[#keys + 1] = ARGV[i] end
else keys = redis.call('ZRANGE', idx, 0, -1) end
-- One HGET per session (its owner, which also says it exists), then the deletes and the index
-- removals (every entry but except's: deleted, gone or another user's) in batches of 1000. A
-- call from Lua costs microseconds whatever it does: 10 000 sessions take one call each, not three.
local out, sessions, unindex = {}, {}, {}
for _, k in ipairs(keys) do
  if k ~= except then
    local sk = prefix .. 's:{' .. k .. '}'
    if redis.call('HGET', sk, 'm:u') == user then
      out[#out + 1] = k
      sessions[#sessions + 1] = sk
    end
    unindex[#unindex + 1] = k
  end
end
for i = 1, #sessions, 1000 do redis.call('DEL', unpack(sessions, i, math.min(i + 999, #sessions))) end
for i = 1, #unindex, 1000 do redis.call('ZREM', idx, unpack(unindex, i, math.min(i + 999, #unindex))) end
return out`;

/**
 * Single node: KEYS[1] a user's index. ARGV: prefix, userId, now. One round trip for a user's
 * live sessions: returns {key, field/value pairs}* and drops entries of sessions that died
 * (idle, destroyed elsewhere) from the index.
 */
export const LIST_USER = `
local idx, prefix, user, now = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', idx, '-inf', ARGV[3])
local out = {}
for _, k in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local sk = prefix .. 's:{' .. k .. '}'
  local e, u = unpack(redis.call('HMGET', sk, 'm:e', 'm:u'))
  if e and tonumber(e) > now and u == user then
    out[#out + 1] = k
    out[#out + 1] = redis.call('HGETALL', sk)
  else
    redis.call('ZREM', idx, k)
  end
end
return out`;

/**
 * Single node: KEYS[1] a user's index. ARGV: prefix, userId, except|'', keep, now. Keeps the
 * `keep` most recently seen live sessions (and `except`), deletes the user's other live ones and
 * drops dead or foreign entries from the index on the way; reads three fields per session, never
 * a record. Returns the keys deleted.
 */
export const DESTROY_SURPLUS = `
local idx, prefix, user, except = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local keep, now = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', idx, '-inf', ARGV[5])
local keys, seen, dead = {}, {}, {}
for _, k in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local e, u, l = unpack(redis.call('HMGET', prefix .. 's:{' .. k .. '}', 'm:e', 'm:u', 'm:l'))
  if e and tonumber(e) > now and u == user then
    if k ~= except then keys[#keys + 1] = k; seen[#seen + 1] = tonumber(l) end
  else
    dead[#dead + 1] = k
  end
end
local out = {}
if #keys > keep then
  -- The newest \`keep\` (ties: the smaller key). A login past a large bound drops one or a few
  -- sessions, and a small bound keeps a handful: either is found in one pass with a small sorted
  -- list. Anything between sorts everything once.
  local function newer(a, b) return seen[a] > seen[b] or (seen[a] == seen[b] and keys[a] < keys[b]) end
  local top = {}
  local surplus = #keys - keep
  if surplus <= 32 then
    -- The oldest \`surplus\`, oldest first; everything else is kept.
    local old = {}
    for i = 1, #keys do
      if #old < surplus or newer(old[#old], i) then
        local p = #old + 1
        while p > 1 and newer(old[p - 1], i) do p = p - 1 end
        table.insert(old, p, i)
        if #old > surplus then old[#old] = nil end
      end
    end
    local gone = {}
    for _, i in ipairs(old) do gone[i] = true end
    for i = 1, #keys do if not gone[i] then top[#top + 1] = i end end
  elseif keep <= 32 then
    for i = 1, #keys do
      if keep > 0 and (#top < keep or newer(i, top[#top])) then
        local p = #top + 1
        while p > 1 and newer(i, top[p - 1]) do p = p - 1 end
        table.insert(top, p, i)
        if #top > keep then top[#top] = nil end
      end
    end
  else
    for i = 1, #keys do top[i] = i end
    table.sort(top, newer)
    for i = #top, keep + 1, -1 do top[i] = nil end
  end
  local kept = {}
  for _, i in ipairs(top) do kept[i] = true end
  local sessions = {}
  for i = 1, #keys do
    if not kept[i] then
      out[#out + 1] = keys[i]
      sessions[#sessions + 1] = prefix .. 's:{' .. keys[i] .. '}'
    end
  end
  for i = 1, #sessions, 1000 do redis.call('DEL', unpack(sessions, i, math.min(i + 999, #sessions))) end
end
for _, list in ipairs({out, dead}) do
  for i = 1, #list, 1000 do redis.call('ZREM', idx, unpack(list, i, math.min(i + 999, #list))) end
end
return out`;

/**
 * Redis Cluster, one call per node: KEYS[1] one session key on that node (it routes the call),
 * ARGV session keys all served by that node (in several slots, which the flag allows). Returns,
 * per key, `m:e`, `m:u`, `m:l` (false when missing), or the error text when the key is not local
 * (a slot moved meanwhile: the caller asks that key on its own).
 */
export const FIELDS_MANY = `#!lua flags=allow-cross-slot-keys
local out = {}
for i = 1, #ARGV do
  local r = redis.pcall('HMGET', ARGV[i], 'm:e', 'm:u', 'm:l')
  if r.err then out[#out + 1] = r.err; out[#out + 1] = false; out[#out + 1] = false
  else out[#out + 1] = r[1]; out[#out + 1] = r[2]; out[#out + 1] = r[3] end
end
return out`;

/**
 * Redis Cluster, one call per node: KEYS[1] as FIELDS_MANY, ARGV[1] a user id, then session keys
 * on that node. Deletes each session still bound to the user; per key 1 (deleted), 0 (gone or
 * another user's) or -1 (not local: the caller deletes it on its own). Never parses a record.
 */
export const DESTROY_MANY = `#!lua flags=allow-cross-slot-keys
local user, out = ARGV[1], {}
for i = 2, #ARGV do
  local u = redis.pcall('HGET', ARGV[i], 'm:u')
  if type(u) == 'table' and u.err then out[#out + 1] = -1
  elseif u == user then redis.call('DEL', ARGV[i]); out[#out + 1] = 1
  else out[#out + 1] = 0 end
end
return out`;
