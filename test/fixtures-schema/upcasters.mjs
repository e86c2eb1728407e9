// A project's upcasters, as `pipeline schema check --upcasters <module>` loads them.
export function registerUpcasters(registry) {
  registry.registerUpcaster('test.price.set', 1, (p) => ({ ...p, currency: 'EUR' }))
  registry.registerUpcaster('test.price.set', 2, (p) => ({ isin: p.isin, price: { amount: p.price, currency: p.currency }, asOf: '1970-01-01' }))
}
