--[[
fail: record one failed attempt of an event; on the last allowed attempt (or when told the
event can never succeed) move it to the dead-letter stream, atomically with its XACK.

KEYS[1] attempts    hash: field = "<stream key> <entry id>" -> failed attempts so far
KEYS[2] stats       hash of counters
KEYS[3] lease       fencing token must equal ARGV[2]
KEYS[4] dlq         the consumer's dead-letter stream

ARGV[1] group
ARGV[2] lease token ('' skips the check)
ARGV[3] max attempts
ARGV[4] force       '1' dead-letters now (undecodable, invalid, or deleted entry)
ARGV[5] inStream    full key of the stream the event came from
ARGV[6] entryId
ARGV[7] corrKey     correlation index key ('' when the event could not be decoded)
ARGV[8] indexTtl    seconds
ARGV[9] consumer    consumer name (index rows read "dlq:<consumer> <entry id>"; its group may be named otherwise)
ARGV[10] nFields    then the dead-letter entry's fields (original fields + error details)

Returns: { attempts, deadLettered (0|1), dlqEntryId or '' } or { -1 } lease lost.
]]
if ARGV[2] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return { -1 }
end
local field = ARGV[5] .. ' ' .. ARGV[6]
local attempts = redis.call('HINCRBY', KEYS[1], field, 1)
if ARGV[4] ~= '1' and attempts < tonumber(ARGV[3]) then
  redis.call('HINCRBY', KEYS[2], 'retries', 1)
  return { attempts, 0, '' }
end
local nFields = tonumber(ARGV[10])
local dlqId = redis.call('XADD', KEYS[4], '*', 'attempts', attempts, unpack(ARGV, 11, 10 + 2 * nFields))
redis.call('XACK', ARGV[5], ARGV[1], ARGV[6])
redis.call('HDEL', KEYS[1], field)
redis.call('HINCRBY', KEYS[2], 'deadLettered', 1)
if ARGV[7] ~= '' then
  if redis.call('RPUSH', ARGV[7], 'dlq:' .. ARGV[9] .. ' ' .. dlqId) == 1 then
    redis.call('EXPIRE', ARGV[7], tonumber(ARGV[8]))
  end
end
return { attempts, 1, dlqId }
