import { describe, expect, it } from 'vitest'
import { hasCode } from '../../src/errors.js'
import { redactUrl } from '../../src/redis/redact.js'
import { asCluster, clusterOptions, parseConnectionUrl } from '../../src/redis/url.js'

const settings = { longLived: true, connectTimeoutMs: 5_000 }

describe('cluster URLs', () => {
  it('redis+cluster:// names the seeds, sharing credentials', () => {
    const target = parseConnectionUrl('redis+cluster://app:s3cret@10.0.0.1:7001,10.0.0.2:7002,10.0.0.3')
    expect(target).toMatchObject({
      kind: 'cluster',
      seeds: [
        { host: '10.0.0.1', port: 7001, db: 0, username: 'app', password: 's3cret' },
        { host: '10.0.0.2', port: 7002, db: 0, username: 'app', password: 's3cret' },
        { host: '10.0.0.3', port: 6379, db: 0, username: 'app', password: 's3cret' },
      ],
    })
  })

  it('rediss+cluster:// is TLS with each host as the server name', () => {
    const target = parseConnectionUrl('rediss+cluster://a.example:6380,b.example:6380')
    expect(target.kind === 'cluster' && target.seeds.map((s) => s.tls)).toEqual([{ servername: 'a.example' }, { servername: 'b.example' }])
    expect(target.kind === 'cluster' && typeof clusterOptions(target, settings).dnsLookup).toBe('function')
  })

  it('a plain URL is one Redis, and seen as a cluster it is the one seed', () => {
    const target = parseConnectionUrl('redis://127.0.0.1:7101')
    expect(target.kind).toBe('standalone')
    expect(asCluster(target).seeds).toEqual([{ host: '127.0.0.1', port: 7101, db: 0 }])
  })

  it('refuses a database other than 0 and an empty node list, without echoing the password', () => {
    for (const url of ['redis+cluster://:pw-x1@h:1/2', 'redis+cluster://:pw-x1@']) {
      let error: unknown
      try {
        parseConnectionUrl(url)
      } catch (e) {
        error = e
      }
      expect(hasCode(error, 'E_REDIS_URL_INVALID')).toBe(true)
      expect(String((error as Error).message)).not.toContain('pw-x1')
    }
  })

  it('a blocking read\'s Cluster client does not re-send a command whose node connection closed', () => {
    const target = asCluster(parseConnectionUrl('redis://127.0.0.1:7101'))
    expect(clusterOptions(target, settings).retryDelayOnFailover).toBeGreaterThan(0)
    const read = clusterOptions(target, settings, { autoResendUnfulfilledCommands: false, commandTimeout: 4_000 })
    expect(read.retryDelayOnFailover).toBe(0)
    expect(read.redisOptions).toMatchObject({ autoResendUnfulfilledCommands: false, commandTimeout: 4_000 })
  })

  it('passwords in the cluster form are redacted', () => {
    expect(redactUrl('redis+cluster://app:s3cret@h1:1,h2:2')).toBe('redis+cluster://app:***@h1:1,h2:2')
    expect(redactUrl('rediss+cluster://s3cret@h1:1,h2:2')).toBe('rediss+cluster://***@h1:1,h2:2')
  })
})
