-- Fencing: an instance that lost its consumer's lease (paused past it, say) must not apply
-- anything. An empty token skips the check (callers outside the runner: re-delivery, replay).
local function holdsLease(leaseKey, token)
  return token == '' or redis.call('GET', leaseKey) == token
end
