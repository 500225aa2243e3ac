/**
 * Lua for the Redis store. Each script touches only the one key it is given, so every call is
 * valid under Redis Cluster's slot rules. Values are JSON text written by JSON.stringify; `push`
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
`;

/** KEYS[1] session. ARGV: expiresAt, then field/value pairs. */
export const CREATE = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1`;

/**
 * KEYS[1] session. ARGV: now, expiresAt|'', lastSeenAt|'', userFlag, userId|'', nSet, (field,
 * json)*, nUnset, field*, nOps, (op, field, arg)*. Returns {0} when the session is gone, else
 * {1, previous user id or '', absoluteExpiresAt}.
 */
export const UPDATE = `${SPLIT}
local key = KEYS[1]
local e = redis.call('HGET', key, 'm:e')
if not e or tonumber(e) <= tonumber(ARGV[1]) then return {0} end
local i = 6
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HSET', key, ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HDEL', key, ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local op, field, arg = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  local cur = redis.call('HGET', key, field)
  if op == 'push' then
    if cur and string.byte(cur, 1) == 91 then
      if cur == '[]' then cur = arg elseif arg ~= '[]' then cur = string.sub(cur, 1, -2) .. ',' .. string.sub(arg, 2) end
    else cur = arg end
    redis.call('HSET', key, field, cur)
  elseif op == 'pull' then
    if cur and string.byte(cur, 1) == 91 then
      local drop = {}
      for _, v in ipairs(split(arg)) do drop[v] = true end
      local kept = {}
      for _, v in ipairs(split(cur)) do if not drop[v] then kept[#kept + 1] = v end end
      redis.call('HSET', key, field, '[' .. table.concat(kept, ',') .. ']')
    end
  elseif op == 'increment' then
    local num = 0
    if cur and string.match(cur, '^%-?%d') then num = tonumber(cur) or 0 end
    redis.call('HSET', key, field, string.format('%.17g', num + tonumber(arg)))
  end
end
if ARGV[2] ~= '' then
  redis.call('HSET', key, 'm:e', ARGV[2])
  redis.call('PEXPIREAT', key, ARGV[2])
end
if ARGV[3] ~= '' then redis.call('HSET', key, 'm:l', ARGV[3]) end
local previous = redis.call('HGET', key, 'm:u') or ''
if ARGV[4] == '1' then
  if ARGV[5] == '' then redis.call('HDEL', key, 'm:u') else redis.call('HSET', key, 'm:u', ARGV[5]) end
end
return {1, previous, redis.call('HGET', key, 'm:a')}`;

/** KEYS[1] session. ARGV: now, expiresAt, lastSeenAt. 1 when extended, 0 when gone. */
export const TOUCH = `
local e = redis.call('HGET', KEYS[1], 'm:e')
if not e or tonumber(e) <= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'm:e', ARGV[2], 'm:l', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`;

/** KEYS[1] session. Returns {deleted, user id or ''}. */
export const DESTROY = `
local user = redis.call('HGET', KEYS[1], 'm:u') or ''
return {redis.call('DEL', KEYS[1]), user}`;

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
