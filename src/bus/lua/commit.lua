--[[
commit: apply the effects of a batch of handled events, atomically with their acknowledgement.

KEYS[1] inbox       sorted set of committed event ids (score = commit time), bounded
KEYS[2] stats       hash of counters
KEYS[3] lease       the consumer's lease; its value must equal ARGV[2] (fencing token)
KEYS[4] attempts    hash of the consumer's own attempt counters
(Streams, state and index keys arrive in ARGV as full names: they are built by keys.ts and all
share KEYS[1]'s {namespace} hash tag, so the script stays in one slot on Redis Cluster.)

ARGV[1] group       consumer group name
ARGV[2] lease token ('' skips the fencing check)
ARGV[3] now (ms)
ARGV[4] inbox size  (ids kept for duplicate detection)
ARGV[5] index ttl   (seconds; correlation index expiry)
ARGV[6] n           events in this batch
then, per event:
  inStream entryId eventId attemptsField nEmits nWrites
  nEmits  x: streamKey corrKey type nFields field value ...
  nWrites x: op key [field] [value]    op: set | del | hset | hdel | hincrby

Checks come first (lease, key types), writes after: a script that fails half-way keeps the
writes it already made, so nothing may fail once writing has started.

Returns: { handled, duplicates } or { -1 } lease lost, { -2, key } wrong key type.
]]
local group = ARGV[1]
local token = ARGV[2]
local now = tonumber(ARGV[3])
local inboxSize = tonumber(ARGV[4])
local indexTtl = tonumber(ARGV[5])
local n = tonumber(ARGV[6])

if token ~= '' and redis.call('GET', KEYS[3]) ~= token then
  return { -1 }
end

local arity = { set = 2, del = 1, hset = 3, hdel = 2, hincrby = 3 }
local expected = { set = 'string', del = nil, hset = 'hash', hdel = 'hash', hincrby = 'hash' }

-- Pass 1: walk the arguments, check every key type, remember where each event starts.
local starts = {}
local checked = {}
local i = 7
for e = 1, n do
  starts[e] = i
  local nEmits = tonumber(ARGV[i + 4])
  local nWrites = tonumber(ARGV[i + 5])
  i = i + 6
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

-- Pass 2: write. Per-batch calls where Redis allows several items per call (XACK, ZMSCORE,
-- ZADD): per-event redis.call overhead is what a commit costs.
-- unpack() is capped by Lua's C stack, so long argument lists go in slices.
local function callSliced(cmd, key, extra, list)
  for s = 1, #list, 4000 do
    if extra then
      redis.call(cmd, key, extra, unpack(list, s, math.min(s + 3999, #list)))
    else
      redis.call(cmd, key, unpack(list, s, math.min(s + 3999, #list)))
    end
  end
end

-- XACKs first: a missing group (NOGROUP) then fails before any other write.
local acks, ackOrder = {}, {}
local ids = {}
for e = 1, n do
  local stream = ARGV[starts[e]]
  if not acks[stream] then acks[stream] = {}; ackOrder[#ackOrder + 1] = stream end
  local list = acks[stream]
  list[#list + 1] = ARGV[starts[e] + 1]
  ids[e] = ARGV[starts[e] + 2]
end
for _, stream in ipairs(ackOrder) do callSliced('XACK', stream, group, acks[stream]) end

-- Inbox: an event id already committed (or twice in this batch) is a duplicate.
local known = {}
for s = 1, n, 4000 do
  local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids, s, math.min(s + 3999, n)))
  for k = 1, #scores do known[s + k - 1] = scores[k] end
end
local fresh, inboxArgs, inBatch = {}, {}, {}
for e = 1, n do
  if not known[e] and not inBatch[ids[e]] then
    fresh[e] = true
    inBatch[ids[e]] = true
    inboxArgs[#inboxArgs + 1] = now
    inboxArgs[#inboxArgs + 1] = ids[e]
  end
end
if #inboxArgs > 0 then callSliced('ZADD', KEYS[1], nil, inboxArgs) end

local handled, duplicates = 0, 0
for e = 1, n do
  i = starts[e]
  local attemptsField = ARGV[i + 3]
  local nEmits = tonumber(ARGV[i + 4])
  local nWrites = tonumber(ARGV[i + 5])
  local isFresh = fresh[e]
  if isFresh then handled = handled + 1 else duplicates = duplicates + 1 end
  i = i + 6
  for _ = 1, nEmits do
    local nFields = tonumber(ARGV[i + 3])
    if isFresh then
      local corrKey = ARGV[i + 1]
      local id = redis.call('XADD', ARGV[i], '*', unpack(ARGV, i + 4, i + 3 + 2 * nFields))
      -- The index expires a while after the file's first event; a list re-created after that
      -- gets its own expiry, so none lives forever.
      if redis.call('RPUSH', corrKey, ARGV[i + 2] .. ' ' .. id) == 1 then
        redis.call('EXPIRE', corrKey, indexTtl)
      end
    end
    i = i + 4 + 2 * nFields
  end
  for _ = 1, nWrites do
    local op, key = ARGV[i], ARGV[i + 1]
    if isFresh then
      if op == 'set' then redis.call('SET', key, ARGV[i + 2])
      elseif op == 'del' then redis.call('DEL', key)
      elseif op == 'hset' then redis.call('HSET', key, ARGV[i + 2], ARGV[i + 3])
      elseif op == 'hdel' then redis.call('HDEL', key, ARGV[i + 2])
      elseif op == 'hincrby' then redis.call('HINCRBY', key, ARGV[i + 2], ARGV[i + 3])
      end
    end
    i = i + 1 + arity[op]
  end
  if attemptsField ~= '' then redis.call('HDEL', KEYS[4], attemptsField) end
end

if handled > 0 then redis.call('HINCRBY', KEYS[2], 'handled', handled) end
if duplicates > 0 then redis.call('HINCRBY', KEYS[2], 'duplicates', duplicates) end
local size = redis.call('ZCARD', KEYS[1])
if size > inboxSize then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - inboxSize - 1)
end
return { handled, duplicates }
