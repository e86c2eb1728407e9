/**
 * PRIIPs SRI from the market-risk class (MRM, 1-7) and credit-risk class (CRM, 1-6), the grid
 * of Annex II of Delegated Regulation (EU) 2017/653: credit risk only raises the SRI, to at
 * least 3 (CRM 3), 5 (CRM 4-5) or 6 (CRM 6).
 */
const CRM_FLOOR: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 3, 4: 5, 5: 5, 6: 6 }

/** The SRI the grid gives; null when MRM or CRM is out of range. */
export function sriFromGrid(mrm: number, crm: number): number | null {
  const floor = CRM_FLOOR[crm]
  if (!Number.isInteger(mrm) || mrm < 1 || mrm > 7 || floor === undefined) return null
  return Math.max(mrm, floor)
}
