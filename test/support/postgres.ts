import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject, onTestFinished } from 'vitest'

/** The run's throwaway Postgres cluster (started by globalSetup), as a URL to its `postgres` database. */
export function testPostgresUrl(): string {
  return inject('postgresUrl')
}

/** A fresh database on the run's cluster, dropped when the test finishes: its URL. */
export async function testDatabase(label = 't'): Promise<string> {
  const name = `${label}_${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: testPostgresUrl() })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  onTestFinished(async () => {
    const client = new pg.Client({ connectionString: testPostgresUrl() })
    await client.connect()
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    } finally {
      await client.end()
    }
  })
  return testPostgresUrl().replace(/\/postgres$/, `/${name}`)
}

/** A pg client on `url`, closed when the test finishes. */
export async function testPg(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  onTestFinished(() => client.end().catch(() => {}))
  return client
}
