import { BaseCommand } from '../cli/base-command.js'
import type { DownResult } from '../pipeline/host/detach.js'

export default class Down extends BaseCommand {
  static override summary = 'Stop a background `pipeline up` and the managed redis-server (or Redis Cluster) it started.'
  static override description =
    'Sends SIGTERM to the `pipeline up` recorded in .pipeline/up.json, waits for it to drain and exit, then stops the ' +
    "project's managed redis-server (its data stays in .pipeline/redis), or the nodes of its managed Redis Cluster (`up --cluster`, data in .pipeline/cluster). Redis given by URL is never touched."

  static override examples = ['<%= config.bin %> down']
  static override enableJsonFlag = true

  async run(): Promise<DownResult> {
    await this.parse(Down)
    const { stopUp } = await import('../pipeline/host/detach.js')
    const result = await stopUp({ projectDir: process.cwd() })
    if (result.up === null && result.redis === null && result.cluster === null) this.log('Nothing to stop: no pipeline up and no managed redis-server is running for this project.')
    if (result.up !== null) this.log(`Stopped pipeline up (pid ${result.up.pid})${result.up.graceful ? '' : ' with SIGKILL: it did not exit within 30 s'}.`)
    if (result.redis !== null) this.log(`Stopped the managed redis-server (pid ${result.redis.pid}); its data stays in .pipeline/redis.`)
    if (result.cluster !== null) this.log(`Stopped the managed Redis Cluster (${result.cluster.pids.length} nodes); its data stays in .pipeline/cluster.`)
    return result
  }
}
