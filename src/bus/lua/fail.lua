--[[
fail: record one failed attempt of an event; on the last allowed attempt (or when told the
event can never succeed) move it to the dead-letter stream, atomically with its XACK.

KEYS[1] attempts    hash: field = "<stream key> <entry id>" -> failed attempts so far
KEYS[2] stats       hash of counters
KEYS[3] lease       fencing token must equal ARGV[2]
KEYS[4] dlq         the consumer's dead-letter stream
KEYS[5] inStream    the stream the event came from
KEYS[6] index       correlation index (absent when the event could not be decoded)

ARGV[1] group
ARGV[2] lease token ('' skips the check)
ARGV[3] max attempts
ARGV[4] mode        '0' counts the attempt; '1' dead-letters now (poison: undecodable, invalid,
                    deleted entry, PoisonError); 't' transient: a retry, not counted as an attempt
ARGV[5] entryId
ARGV[6] indexTtl    seconds
ARGV[7] consumer    consumer name (the index row names it; its group may be named otherwise)
ARGV[8] nFields     then the dead-letter entry's fields (original fields + error details)

Returns: { attempts, deadLettered (0|1), dlqEntryId or '' } or { -1 } lease lost.
]]
--- @include "lease-check"
--- @include "index-append"

if not holdsLease(KEYS[3], ARGV[2]) then
  return { -1 }
end
local field = KEYS[5] .. ' ' .. ARGV[5]
if ARGV[4] == 't' then
  redis.call('HINCRBY', KEYS[2], 'retries', 1)
  return { tonumber(redis.call('HGET', KEYS[1], field) or '0'), 0, '' }
end
local attempts = redis.call('HINCRBY', KEYS[1], field, 1)
if ARGV[4] ~= '1' and attempts < tonumber(ARGV[3]) then
  redis.call('HINCRBY', KEYS[2], 'retries', 1)
  return { attempts, 0, '' }
end
local nFields = tonumber(ARGV[8])
local dlqId = redis.call('XADD', KEYS[4], '*', 'attempts', attempts, unpack(ARGV, 9, 8 + 2 * nFields))
redis.call('XACK', KEYS[5], ARGV[1], ARGV[5])
redis.call('HDEL', KEYS[1], field)
redis.call('HINCRBY', KEYS[2], 'deadLettered', 1)
if KEYS[6] then indexAppendDeadLetter(KEYS[6], ARGV[7], dlqId, tonumber(ARGV[6])) end
return { attempts, 1, dlqId }
