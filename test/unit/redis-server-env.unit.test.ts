import { expect, it } from 'vitest'
import { redisServerEnv } from '../../src/redis/binary.js'

it('a redis-server we start gets our environment without libfaketime (it aborts under it)', () => {
  const faked = { PATH: '/usr/bin', LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', FAKETIME: '+200d' }
  expect(redisServerEnv(faked)).toEqual({ PATH: '/usr/bin', FAKETIME: '+200d' })
  expect(redisServerEnv({ LD_PRELOAD: '/opt/libjemalloc.so /usr/lib/faketime/libfaketimeMT.so.1:/opt/other.so' })).toEqual({ LD_PRELOAD: '/opt/libjemalloc.so:/opt/other.so' })
  const plain = { PATH: '/usr/bin', LD_PRELOAD: '/opt/libjemalloc.so' }
  expect(redisServerEnv(plain)).toBe(plain)
})
