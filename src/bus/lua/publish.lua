--[[
publish: append events to their streams, idempotently by event id. ioredis re-sends commands
left unanswered by a dropped connection; the marker makes the second XADD a no-op.

KEYS: none fixed (all keys arrive in ARGV, built by keys.ts under one {namespace} hash tag).
ARGV[1] marker ttl (ms): how long a published id is remembered
ARGV[2] index ttl (seconds)
ARGV[3] n
then per event: markerKey streamKey corrKey type nFields field value ...

Returns: one entry id per event; '' where the id had already been published.
]]
local markerTtl = ARGV[1]
local indexTtl = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local out = {}
local i = 4
for e = 1, n do
  local marker, streamKey, corrKey, evType = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local nFields = tonumber(ARGV[i + 4])
  if redis.call('SET', marker, '1', 'NX', 'PX', markerTtl) then
    local id = redis.call('XADD', streamKey, '*', unpack(ARGV, i + 5, i + 4 + 2 * nFields))
    if redis.call('RPUSH', corrKey, evType .. ' ' .. id) == 1 then
      redis.call('EXPIRE', corrKey, indexTtl)
    end
    out[e] = id
  else
    out[e] = ''
  end
  i = i + 5 + 2 * nFields
end
return out
