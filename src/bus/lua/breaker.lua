--[[
breaker: one change of a consumer's breaker. Its state is one hash, absent while closed, so it
survives restarts and every instance of the consumer sees the same one.

KEYS[1] breaker     hash: state=open, reason (failures|manual), since, lastError, nextProbeAt, probes
KEYS[2] stats       hash of counters (breakerOpened, breakerClosed)
KEYS[3] lease       fencing token must equal ARGV[2]

ARGV[1] op          open | probe-failed | close | pause | resume
ARGV[2] lease token ('' skips the check: pause and resume come from the CLI)
ARGV[3] now         ms
ARGV[4] lastError   (open, probe-failed, pause)
ARGV[5] nextProbeAt ms (open, probe-failed)

Returns: 1 changed, 0 nothing to change (already open; a paused breaker is closed only by
resume), -1 lease lost.
]]
--- @include "lease-check"

if not holdsLease(KEYS[3], ARGV[2]) then
  return -1
end
local op = ARGV[1]
local reason = redis.call('HGET', KEYS[1], 'reason')
if op == 'open' then
  if reason then return 0 end
  redis.call('HSET', KEYS[1], 'state', 'open', 'reason', 'failures', 'since', ARGV[3], 'lastError', ARGV[4], 'nextProbeAt', ARGV[5], 'probes', 0)
  redis.call('HINCRBY', KEYS[2], 'breakerOpened', 1)
  return 1
elseif op == 'probe-failed' then
  if reason ~= 'failures' then return 0 end
  redis.call('HSET', KEYS[1], 'lastError', ARGV[4], 'nextProbeAt', ARGV[5])
  redis.call('HINCRBY', KEYS[1], 'probes', 1)
  return 1
elseif op == 'close' then
  if reason ~= 'failures' then return 0 end
  redis.call('DEL', KEYS[1])
  redis.call('HINCRBY', KEYS[2], 'breakerClosed', 1)
  return 1
elseif op == 'pause' then
  if reason == 'manual' then return 0 end
  if not reason then redis.call('HINCRBY', KEYS[2], 'breakerOpened', 1) end
  redis.call('HSET', KEYS[1], 'state', 'open', 'reason', 'manual', 'since', ARGV[3], 'lastError', ARGV[4])
  redis.call('HDEL', KEYS[1], 'nextProbeAt')
  return 1
elseif op == 'resume' then
  if not reason then return 0 end
  redis.call('DEL', KEYS[1])
  redis.call('HINCRBY', KEYS[2], 'breakerClosed', 1)
  return 1
end
return redis.error_reply('breaker: unknown op ' .. op)
