--[[
refail: a re-delivered dead letter failed again. Its entry is replaced by one with the new
error (same original event fields), so the dead-letter stream always shows the latest failure.

KEYS[1] dlq         the consumer's dead-letter stream

ARGV[1] old entry id
ARGV[2] corrKey     correlation index key ('' when the event could not be decoded)
ARGV[3] index ttl   seconds
ARGV[4] consumer    consumer name (index rows read "dlq:<consumer> <entry id>")
ARGV[5] nFields     then the new entry's fields

Returns: { newEntryId } or { -3, oldEntryId } the dead letter is gone (replayed or purged meanwhile).
]]
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  return { -3, ARGV[1] }
end
local nFields = tonumber(ARGV[5])
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 6, 5 + 2 * nFields))
redis.call('XDEL', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then
  if redis.call('RPUSH', ARGV[2], 'dlq:' .. ARGV[4] .. ' ' .. id) == 1 then
    redis.call('EXPIRE', ARGV[2], tonumber(ARGV[3]))
  end
end
return { id }
