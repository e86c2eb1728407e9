import { describe, expect, it } from 'vitest'
import { redact, redactDeep, redactUrl } from '../../src/redis/redact.js'

describe('redact', () => {
  it.each([
    ['redis://user:s3cret@host:6379/0', 'redis://user:***@host:6379/0'],
    ['rediss://:s3cret@host', 'rediss://:***@host'],
    ['redis://s3cret@host:6379', 'redis://***@host:6379'],
    ['redis://host:6379?password=s3cret&db=1', 'redis://host:6379?password=***&db=1'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['postgres://app:s3cret@db:5432/orders', 'postgres://app:***@db:5432/orders'],
    ['postgresql://app@db/orders?password=s3cret', 'postgresql://app@db/orders?password=***'],
  ])('masks the password of %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected)
  })

  it('masks urls inside longer text', () => {
    expect(redact('Cannot reach redis://a:s3cret@h:1 now; retry redis://b:x@y')).toBe('Cannot reach redis://a:***@h:1 now; retry redis://b:***@y')
  })

  it('masks AUTH and requirepass arguments but keeps the words around them', () => {
    expect(redact('AUTH default s3cret')).toBe('AUTH ***')
    expect(redact('command: auth: [s3cret]')).toBe('command: auth: [***]')
    expect(redact('CONFIG SET requirepass s3cret')).toBe('CONFIG SET requirepass ***')
    expect(redact('NOAUTH Authentication required.')).toBe('NOAUTH Authentication required.')
  })

  it('masks the JSON of an ioredis AUTH command', () => {
    const json = JSON.stringify({ message: 'WRONGPASS', command: { name: 'auth', args: ['user', 's3cret'] } })
    expect(redact(json)).not.toContain('s3cret')
    expect(redact(json)).toContain('"name":"auth"')
  })
})

describe('redactDeep', () => {
  it('masks sensitive keys, AUTH command args and urls in nested values', () => {
    const out = redactDeep({
      password: 's3cret',
      nested: [{ url: 'redis://u:s3cret@h' }],
      command: { name: 'AUTH', args: ['s3cret'] },
      other: { name: 'get', args: ['key'] },
    })
    expect(JSON.stringify(out)).not.toContain('s3cret')
    expect(out.other.args).toEqual(['key'])
    expect(out.nested[0]?.url).toBe('redis://u:***@h')
  })

  it('turns errors into plain redacted objects', () => {
    const out = redactDeep(new Error('redis://u:s3cret@h refused'))
    expect(JSON.stringify(out)).not.toContain('s3cret')
  })

  it('leaves other values alone', () => {
    expect(redactDeep({ n: 1, b: true, z: null })).toEqual({ n: 1, b: true, z: null })
  })
})
