/** What a Redis Cluster says about itself (CLUSTER NODES, CLUSTER INFO), parsed. */

export const CLUSTER_SLOTS = 16384

export type SlotRange = readonly [first: number, last: number]

export interface ClusterNodeView {
  id: string
  /** host:port clients use. */
  address: string
  port: number
  role: 'master' | 'replica'
  /** The master's id for a replica, else null. */
  masterId: string | null
  /** `fail` or `fail?` when the others (or this one) think it is down. */
  failing: boolean
  /** Stable slots this master serves (importing/migrating markers left out). */
  slots: SlotRange[]
}

/**
 * Parses CLUSTER NODES: `<id> <ip:port@cport[,host]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...`.
 * Nodes without an address (`noaddr`, forgotten) are left out.
 */
export function parseClusterNodes(text: string): ClusterNodeView[] {
  const nodes: ClusterNodeView[] = []
  for (const line of text.split(/\r?\n/)) {
    const [id, addr, flagText, master, , , , , ...slotFields] = line.trim().split(' ')
    if (id === undefined || addr === undefined || flagText === undefined || master === undefined) continue
    const flags = flagText.split(',')
    if (flags.includes('noaddr') || flags.includes('handshake')) continue
    const address = addr.split('@')[0] ?? addr
    const port = Number(address.slice(address.lastIndexOf(':') + 1))
    const slots: SlotRange[] = []
    for (const field of slotFields) {
      if (field.startsWith('[')) continue // a slot being moved: still served by its owner
      const [first, last] = field.split('-').map(Number)
      if (first !== undefined && Number.isInteger(first)) slots.push([first, last ?? first])
    }
    nodes.push({
      id,
      address,
      port,
      role: flags.includes('master') ? 'master' : 'replica',
      masterId: master === '-' ? null : master,
      failing: flags.includes('fail') || flags.includes('fail?'),
      slots,
    })
  }
  return nodes.sort((a, b) => a.port - b.port)
}

export interface SlotCoverage {
  covered: number
  /** Ranges no live master serves. */
  missing: SlotRange[]
}

/** How many of the 16384 slots a live master serves, and which ranges none does. */
export function slotCoverage(nodes: readonly ClusterNodeView[]): SlotCoverage {
  const served = new Uint8Array(CLUSTER_SLOTS)
  for (const node of nodes) {
    if (node.role !== 'master' || node.failing) continue
    for (const [first, last] of node.slots) served.fill(1, first, last + 1)
  }
  const missing: [number, number][] = []
  let covered = 0
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (served[slot] === 1) {
      covered++
      continue
    }
    const last = missing[missing.length - 1]
    if (last !== undefined && last[1] === slot - 1) last[1] = slot
    else missing.push([slot, slot])
  }
  return { covered, missing }
}

/** `0-5460,10923-16383` */
export function formatSlotRanges(ranges: readonly SlotRange[]): string {
  return ranges.map(([first, last]) => (first === last ? String(first) : `${first}-${last}`)).join(',')
}

/**
 * The slot of a key, as Redis Cluster computes it: CRC16 (XMODEM) of its hash tag (the text
 * between the first `{` and the next `}`, when not empty), else of the whole key, mod 16384.
 */
/** True when the node serves this slot (one of its ranges holds it). */
export function servesSlot(node: Pick<ClusterNodeView, 'slots'>, slot: number): boolean {
  return node.slots.some(([first, last]) => slot >= first && slot <= last)
}

export function keySlot(key: string): number {
  const open = key.indexOf('{')
  const close = open < 0 ? -1 : key.indexOf('}', open + 1)
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key
  let crc = 0
  for (const byte of Buffer.from(hashed, 'utf8')) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc % CLUSTER_SLOTS
}

/** Masters by port, each followed by its replicas: how a person reads a cluster. */
export function byShard<T extends ClusterNodeView>(nodes: readonly T[]): T[] {
  const masters = nodes.filter((n) => n.role === 'master').sort((a, b) => a.port - b.port)
  const placed = new Set<T>()
  const out: T[] = []
  for (const master of masters) {
    for (const node of [master, ...nodes.filter((n) => n.masterId === master.id).sort((a, b) => a.port - b.port)]) {
      out.push(node)
      placed.add(node)
    }
  }
  return [...out, ...nodes.filter((n) => !placed.has(n))]
}
