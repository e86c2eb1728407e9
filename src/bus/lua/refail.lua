--[[
refail: a re-delivered dead letter failed again. Its entry is replaced by one with the new
error (same original event fields), so the dead-letter stream always shows the latest failure.

KEYS[1] dlq         the consumer's dead-letter stream
KEYS[2] index       correlation index (absent when the event could not be decoded)

ARGV[1] old entry id
ARGV[2] index ttl   seconds
ARGV[3] consumer    consumer name (the index row names it)
ARGV[4] nFields     then the new entry's fields

Returns: { newEntryId } or { -3, oldEntryId } the dead letter is gone (replayed or purged meanwhile).
]]
--- @include "index-append"

if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  return { -3, ARGV[1] }
end
local nFields = tonumber(ARGV[4])
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 5, 4 + 2 * nFields))
redis.call('XDEL', KEYS[1], ARGV[1])
if KEYS[2] then indexAppendDeadLetter(KEYS[2], ARGV[3], id, tonumber(ARGV[2])) end
return { id }
