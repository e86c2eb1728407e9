--[[
publish: append events to their streams, idempotently by event id. ioredis re-sends commands
left unanswered by a dropped connection; the marker makes the second XADD a no-op.

KEYS: three per event, in event order: marker (the published id's dedup key), stream, and
      correlation index (all built by keys.ts under one {namespace} hash tag)
ARGV[1] marker ttl (ms): how long a published id is remembered
ARGV[2] index ttl (seconds)
then per event: type nFields field value ...

Returns: one entry id per event; '' where the id had already been published.
]]
--- @include "index-append"

local markerTtl = ARGV[1]
local indexTtl = tonumber(ARGV[2])
local out = {}
local i = 3
for e = 1, #KEYS / 3 do
  local marker, streamKey, indexKey = KEYS[3 * e - 2], KEYS[3 * e - 1], KEYS[3 * e]
  local nFields = tonumber(ARGV[i + 1])
  if redis.call('SET', marker, '1', 'NX', 'PX', markerTtl) then
    local id = redis.call('XADD', streamKey, '*', unpack(ARGV, i + 2, i + 1 + 2 * nFields))
    indexAppend(indexKey, ARGV[i], id, indexTtl)
    out[e] = id
  else
    out[e] = ''
  end
  i = i + 2 + 2 * nFields
end
return out
