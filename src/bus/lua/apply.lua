--[[
apply: commit the effects of events handled outside the consumer group (a dead letter
re-delivered, or a window replayed), atomically with their bookkeeping. Nothing is XACKed:
these entries were acknowledged long ago, and replays never touch a consumer group.

KEYS[1] inbox       sorted set of applied event ids: the consumer's inbox for dead letters,
                    the replay run's own inbox for window replays
KEYS[2] stats       hash of counters
KEYS[3] dlq         the consumer's dead-letter stream (only touched for dead letters)
(Streams, state and index keys arrive in ARGV as full names, built by keys.ts, in KEYS[1]'s slot.)

ARGV[1] now (ms)
ARGV[2] inbox size  (ids kept; 0 keeps all: a replay inbox lives as long as its run)
ARGV[3] index ttl   (seconds; correlation index expiry)
ARGV[4] counter     stats field counting applied events ('replayed' or 'deadLettersReplayed')
ARGV[5] n           events in this call
then, per event:
  eventId dlqEntryId('' for none) nEmits nWrites
  nEmits  x: streamKey corrKey type nFields field value ...
  nWrites x: op key [field] [value]    op: set | del | hset | hdel | hincrby

Checks first (every named dead letter still exists, key types), writes after. An event whose id
is already in the inbox is a duplicate: its effects are skipped, its dead letter still removed.

Returns: { applied, duplicates } or { -3, dlqEntryId } a dead letter is gone (replayed or
purged meanwhile; nothing written), { -2, key } wrong key type (nothing written).
]]
local now = tonumber(ARGV[1])
local inboxSize = tonumber(ARGV[2])
local indexTtl = tonumber(ARGV[3])
local counter = ARGV[4]
local n = tonumber(ARGV[5])

local arity = { set = 2, del = 1, hset = 3, hdel = 2, hincrby = 3 }
local expected = { set = 'string', del = nil, hset = 'hash', hdel = 'hash', hincrby = 'hash' }

-- Pass 1: checks.
local starts = {}
local checked = {}
local i = 6
for e = 1, n do
  starts[e] = i
  local dlqId = ARGV[i + 1]
  if dlqId ~= '' and #redis.call('XRANGE', KEYS[3], dlqId, dlqId) == 0 then
    return { -3, dlqId }
  end
  local nEmits = tonumber(ARGV[i + 2])
  local nWrites = tonumber(ARGV[i + 3])
  i = i + 4
  for _ = 1, nEmits do
    local streamKey = ARGV[i]
    if not checked[streamKey] then
      local t = redis.call('TYPE', streamKey)['ok']
      if t ~= 'none' and t ~= 'stream' then return { -2, streamKey } end
      checked[streamKey] = true
    end
    i = i + 4 + 2 * tonumber(ARGV[i + 3])
  end
  for _ = 1, nWrites do
    local op = ARGV[i]
    local key = ARGV[i + 1]
    local want = expected[op]
    if want and not checked[key] then
      local t = redis.call('TYPE', key)['ok']
      if t ~= 'none' and t ~= want then return { -2, key } end
      checked[key] = true
    end
    i = i + 1 + arity[op]
  end
end

-- Pass 2: writes.
local applied, duplicates = 0, 0
local inBatch = {}
for e = 1, n do
  i = starts[e]
  local id = ARGV[i]
  local dlqId = ARGV[i + 1]
  local nEmits = tonumber(ARGV[i + 2])
  local nWrites = tonumber(ARGV[i + 3])
  local fresh = not inBatch[id] and not redis.call('ZSCORE', KEYS[1], id)
  if fresh then
    inBatch[id] = true
    redis.call('ZADD', KEYS[1], now, id)
    applied = applied + 1
  else
    duplicates = duplicates + 1
  end
  if dlqId ~= '' then redis.call('XDEL', KEYS[3], dlqId) end
  i = i + 4
  for _ = 1, nEmits do
    local nFields = tonumber(ARGV[i + 3])
    if fresh then
      local entryId = redis.call('XADD', ARGV[i], '*', unpack(ARGV, i + 4, i + 3 + 2 * nFields))
      if redis.call('RPUSH', ARGV[i + 1], ARGV[i + 2] .. ' ' .. entryId) == 1 then
        redis.call('EXPIRE', ARGV[i + 1], indexTtl)
      end
    end
    i = i + 4 + 2 * nFields
  end
  for _ = 1, nWrites do
    local op, key = ARGV[i], ARGV[i + 1]
    if fresh then
      if op == 'set' then redis.call('SET', key, ARGV[i + 2])
      elseif op == 'del' then redis.call('DEL', key)
      elseif op == 'hset' then redis.call('HSET', key, ARGV[i + 2], ARGV[i + 3])
      elseif op == 'hdel' then redis.call('HDEL', key, ARGV[i + 2])
      elseif op == 'hincrby' then redis.call('HINCRBY', key, ARGV[i + 2], ARGV[i + 3])
      end
    end
    i = i + 1 + arity[op]
  end
end

if applied > 0 then redis.call('HINCRBY', KEYS[2], counter, applied) end
if inboxSize > 0 then
  local size = redis.call('ZCARD', KEYS[1])
  if size > inboxSize then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - inboxSize - 1) end
end
return { applied, duplicates }
