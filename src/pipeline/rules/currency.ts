/**
 * Active ISO 4217 alphabetic codes (list one, as published by the maintenance agency), kept as
 * data. Left out on purpose: XTS (testing) and XXX (no currency), which no fund prices in, and
 * codes withdrawn recently (HRK 2023, SLL 2024, ANG 2025 -> XCG, ZWL -> ZWG, BGN after Bulgaria's
 * 2026 euro changeover).
 */
export const ISO_4217_ACTIVE: ReadonlySet<string> = new Set(
  `AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
   CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
   GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
   KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
   MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD
   SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
   USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF
   XPT XSU XUA YER ZAR ZMW ZWG`
    .split(/\s+/)
    .filter((code) => code !== ''),
)

/** True when `code` is an active ISO 4217 code (exact, upper case). */
export function isActiveCurrency(code: string): boolean {
  return ISO_4217_ACTIVE.has(code)
}
