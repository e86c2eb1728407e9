--[[
lease: take or renew a consumer's lease (one active instance per consumer; the token fences
commits of an instance that lost it, e.g. one paused past the lease).

KEYS[1] lease
ARGV[1] token
ARGV[2] ttl (ms)
ARGV[3] mode: 'acquire' (take if free or ours) | 'renew' (only if ours) | 'release'
        | 'seize' (take it whoever holds it: an online rebuild fences the live instance's commits)
        | 'handback' (only if ours: give it back to ARGV[4], the holder seize returned, or free it)
ARGV[4] handback only: the previous holder's token ('' for none)

Returns: 1 held, 0 not held; seize returns the previous holder's token ('' for none).
]]
local current = redis.call('GET', KEYS[1])
if ARGV[3] == 'release' then
  if current == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return 0
end
if ARGV[3] == 'seize' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return current or ''
end
if ARGV[3] == 'handback' then
  if current == ARGV[1] then
    if ARGV[4] ~= '' then redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[2]) else redis.call('DEL', KEYS[1]) end
  end
  return 0
end
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if ARGV[3] == 'acquire' and not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
