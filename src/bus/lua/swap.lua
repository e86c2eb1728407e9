--[[
swap: put a rebuilt (shadow) state in place of a consumer's live state in one step, while the
rebuild holds the consumer's lease (so no live commit lands between the proof and the swap).

KEYS[1]              the consumer's lease; must hold ARGV[1]
KEYS[2 .. 1+n]       shadow keys
KEYS[2+n .. 1+2n]    the live key each replaces (same position)
KEYS[2+2n ..]        live keys the shadow has no counterpart for: deleted

ARGV[1] lease token
ARGV[2] n

Returns: { renamed, deleted } or { -1 } lease lost (nothing changed).
]]
--- @include "lease-check"

if not holdsLease(KEYS[1], ARGV[1]) then
  return { -1 }
end
local n = tonumber(ARGV[2])
for i = 2, 1 + n do
  redis.call('RENAME', KEYS[i], KEYS[i + n])
end
local deleted = 0
for i = 2 + 2 * n, #KEYS do
  deleted = deleted + redis.call('DEL', KEYS[i])
end
return { n, deleted }
