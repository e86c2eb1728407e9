-- The correlation index: one list per correlation, one row per appended entry, read by
-- src/bus/index-rows.ts. Rows: "<event type> <entry id>" for an event in its stream,
-- "dlq:<consumer> <entry id>" for a dead letter in that consumer's dead-letter stream.
-- A list expires a while after its first row; one re-created after that gets its own expiry,
-- so none lives forever.
local function indexAppend(indexKey, name, entryId, ttl)
  if redis.call('RPUSH', indexKey, name .. ' ' .. entryId) == 1 then
    redis.call('EXPIRE', indexKey, ttl)
  end
end

local function indexAppendDeadLetter(indexKey, consumer, entryId, ttl)
  indexAppend(indexKey, 'dlq:' .. consumer, entryId, ttl)
end
