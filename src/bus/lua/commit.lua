--[[
commit: apply the effects of handled events atomically with their bookkeeping. The one script
through which every handled event takes effect: the runner (XACK of the input entry), a dead
letter re-delivered (XDEL of the dead letter) and a window replay (neither).

KEYS[1] inbox       sorted set of applied event ids (score = time): the consumer's inbox, or a
                    replay run's own inbox
KEYS[2] stats       hash of counters
KEYS[3] lease       the consumer's lease; must hold A[2] unless that is ''
KEYS[4] attempts    hash of the consumer's own attempt counters
KEYS[5] dlq         the consumer's dead-letter stream (checked and trimmed only for re-deliveries)
KEYS[6 ..]          every stream, correlation index and state key the batch touches, each once;
                    the arguments below name them by position in KEYS (all keys share KEYS[1]'s
                    {namespace} hash tag, so the script stays in one slot on Redis Cluster)

ARGV[1] one MessagePack array A (cmsgpack.unpack): the arguments below are A's elements, in
        this order (one bulk argument instead of thousands: the client's cost per argument
        was most of a commit's Node CPU)
A[1] group          consumer group of XACKs
A[2] lease token    ('' skips the fencing check)
A[3] now (ms)
A[4] inbox size     (ids kept; 0 keeps all)
A[5] index ttl      (seconds; correlation index expiry, set when an index list is created)
A[6] counter        stats field counting applied events ('handled', 'replayed', ...)
A[7] k              envelope field names, then A[8 .. 7+k] the names in stream order;
                    names[2] must be 'type'
then n, then per event:
  ack entryId attemptsField dlqEntryId eventId index nEmits nWrites
    ack   : KEYS position of the stream to XACK entryId in (0: nothing to XACK)
    index : KEYS position of the correlation index of its emits (0: no emits)
    attemptsField '' : no counter to clear;  dlqEntryId '' : none
  nEmits  x: stream value1 .. valuek nExtra extraName extraValue ...   (stream: KEYS position;
             negative: the partition's outbox, an event for another partition, appended unindexed)
  nWrites x: op key [field] [value]    op: set | del | hset | hdel | hincrby  (key: KEYS position)

Checks come first (lease, dead letters still there, key types, entries still pending), writes after: a script that
fails half-way keeps the writes it already made, so nothing may fail once writing has started.
Per-batch calls where Redis takes several items per call (XACK, ZMSCORE, ZADD): per-event
redis.call overhead is most of what a commit costs.

Returns: { applied, duplicates, stale } (stale: entries no longer pending, nothing applied for
them) or { -1 } lease lost, { -2, key } wrong key type,
{ -3, dlqEntryId } a dead letter to re-deliver is gone (nothing written).
]]
--- @include "lease-check"
--- @include "index-append"

local A = cmsgpack.unpack(ARGV[1])

local group, token = A[1], A[2]
local now, inboxSize, indexTtl = tonumber(A[3]), tonumber(A[4]), tonumber(A[5])
local counter = A[6]
local k = tonumber(A[7])
local n = tonumber(A[8 + k])
local HEAD = 8

if not holdsLease(KEYS[3], token) then
  return { -1 }
end

local arity = { set = 2, del = 1, hset = 3, hdel = 2, hincrby = 3 }
local expected = { set = 'string', hset = 'hash', hdel = 'hash', hincrby = 'hash' }

-- Pass 1: walk the arguments, check, remember where each event starts.
local starts = {}
local checked = {}
local i = 9 + k
for e = 1, n do
  starts[e] = i
  local dlqId = A[i + 3]
  if dlqId ~= '' and #redis.call('XRANGE', KEYS[5], dlqId, dlqId) == 0 then
    return { -3, dlqId }
  end
  local nEmits, nWrites = tonumber(A[i + 6]), tonumber(A[i + 7])
  i = i + HEAD
  for _ = 1, nEmits do
    local streamKey = KEYS[math.abs(tonumber(A[i]))]
    if not checked[streamKey] then
      local t = redis.call('TYPE', streamKey)['ok']
      if t ~= 'none' and t ~= 'stream' then return { -2, streamKey } end
      checked[streamKey] = true
    end
    i = i + k + 2 + 2 * tonumber(A[i + k + 1])
  end
  for _ = 1, nWrites do
    local op, key = A[i], KEYS[tonumber(A[i + 1])]
    local want = expected[op]
    if want and not checked[key] then
      local t = redis.call('TYPE', key)['ok']
      if t ~= 'none' and t ~= want then return { -2, key } end
      checked[key] = true
    end
    i = i + 1 + arity[op]
  end
end

-- Pass 1b: every entry to acknowledge must still be pending in its group. After Redis lost
-- writes (a restart without them, a failover to a lagging replica) a runner may still hold
-- entries that no longer exist: their effects must not be applied. One XPENDING per stream.
local function before(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, bm = tonumber(am), tonumber(bm)
  if am ~= bm then return am < bm end
  return tonumber(as) < tonumber(bs)
end
local stale, staleCount = {}, 0
local byStream, streamOrder = {}, {}
for e = 1, n do
  local stream = KEYS[tonumber(A[starts[e]])]
  if stream then
    if not byStream[stream] then byStream[stream] = {}; streamOrder[#streamOrder + 1] = stream end
    local list = byStream[stream]
    list[#list + 1] = e
  end
end
for _, stream in ipairs(streamOrder) do
  local events = byStream[stream]
  local lo, hi = A[starts[events[1]] + 1], A[starts[events[1]] + 1]
  for _, e in ipairs(events) do
    local id = A[starts[e] + 1]
    if before(id, lo) then lo = id end
    if before(hi, id) then hi = id end
  end
  -- Other entries held for later waves may lie between these ids: page through the range.
  local pending, from = {}, lo
  while true do
    local page = redis.call('XPENDING', stream, group, from, hi, 1000)
    for _, p in ipairs(page) do pending[p[1]] = true end
    if #page < 1000 then break end
    from = '(' .. page[#page][1]
  end
  for _, e in ipairs(events) do
    if not pending[A[starts[e] + 1]] then stale[e] = true; staleCount = staleCount + 1 end
  end
end

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

-- Pass 2: write. Acknowledgements first: a missing group (NOGROUP) then fails before any other write.
local acks, ackOrder, ids = {}, {}, {}
for e = 1, n do
  local s = starts[e]
  local stream = KEYS[tonumber(A[s])]
  if stream and not stale[e] then
    if not acks[stream] then acks[stream] = {}; ackOrder[#ackOrder + 1] = stream end
    local list = acks[stream]
    list[#list + 1] = A[s + 1]
  end
  if A[s + 3] ~= '' then redis.call('XDEL', KEYS[5], A[s + 3]) end
  ids[e] = A[s + 4]
end
for _, stream in ipairs(ackOrder) do callSliced('XACK', stream, group, acks[stream]) end

-- Inbox: an event id already applied (or twice in this batch) is a duplicate.
local known = {}
for s = 1, n, 4000 do
  local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids, s, math.min(s + 3999, n)))
  for j = 1, #scores do known[s + j - 1] = scores[j] end
end
local fresh, inboxArgs, inBatch = {}, {}, {}
for e = 1, n do
  if not stale[e] and not known[e] and not inBatch[ids[e]] then
    fresh[e] = true
    inBatch[ids[e]] = true
    inboxArgs[#inboxArgs + 1] = now
    inboxArgs[#inboxArgs + 1] = ids[e]
  end
end
if #inboxArgs > 0 then callSliced('ZADD', KEYS[1], nil, inboxArgs) end

-- One XADD argument table, reused: names stay, values and extras are overwritten per emit.
local xadd = { '', '*' }
for f = 1, k do xadd[1 + 2 * f] = A[7 + f] end

local applied, duplicates = 0, 0
for e = 1, n do
  i = starts[e]
  local attemptsField, indexKey = A[i + 2], KEYS[tonumber(A[i + 5])]
  local nEmits, nWrites = tonumber(A[i + 6]), tonumber(A[i + 7])
  local isFresh = fresh[e]
  if isFresh then applied = applied + 1 elseif not stale[e] then duplicates = duplicates + 1 end
  i = i + HEAD
  for _ = 1, nEmits do
    local nExtra = tonumber(A[i + k + 1])
    if isFresh then
      local position = tonumber(A[i])
      xadd[1] = KEYS[math.abs(position)]
      for f = 1, k do xadd[2 + 2 * f] = A[i + f] end
      local size = 2 + 2 * k
      for x = 1, 2 * nExtra do xadd[size + x] = A[i + k + 1 + x] end
      local id = redis.call('XADD', unpack(xadd, 1, size + 2 * nExtra))
      if position > 0 then indexAppend(indexKey, A[i + 2], id, indexTtl) end
    end
    i = i + k + 2 + 2 * nExtra
  end
  for _ = 1, nWrites do
    local op, key = A[i], KEYS[tonumber(A[i + 1])]
    if isFresh then
      if op == 'set' then redis.call('SET', key, A[i + 2])
      elseif op == 'del' then redis.call('DEL', key)
      elseif op == 'hset' then redis.call('HSET', key, A[i + 2], A[i + 3])
      elseif op == 'hdel' then redis.call('HDEL', key, A[i + 2])
      elseif op == 'hincrby' then redis.call('HINCRBY', key, A[i + 2], A[i + 3])
      end
    end
    i = i + 1 + arity[op]
  end
  if attemptsField ~= '' and not stale[e] then redis.call('HDEL', KEYS[4], attemptsField) end
end

if applied > 0 then redis.call('HINCRBY', KEYS[2], counter, applied) end
if duplicates > 0 then redis.call('HINCRBY', KEYS[2], 'duplicates', duplicates) end
if staleCount > 0 then redis.call('HINCRBY', KEYS[2], 'stale', staleCount) end
if inboxSize > 0 then
  local size = redis.call('ZCARD', KEYS[1])
  if size > inboxSize then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - inboxSize - 1) end
end
return { applied, duplicates, staleCount }
