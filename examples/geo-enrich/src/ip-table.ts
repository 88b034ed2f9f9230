/**
 * The bundled lookup table: IPv4 ranges (CIDR) with their country and city. Sample data for the
 * example (ranges from public GeoIP test fixtures), not a real geo database.
 */
export interface Place {
  country: string
  city: string | null
}

const RANGES: [cidr: string, country: string, city: string | null][] = [
  ['2.125.160.216/29', 'GB', 'Boxford'],
  ['67.43.156.0/24', 'BT', null],
  ['81.2.69.0/24', 'GB', 'London'],
  ['89.160.20.112/28', 'SE', 'Linköping'],
  ['175.16.199.0/24', 'CN', 'Changchun'],
  ['202.196.224.0/20', 'PH', null],
  ['216.160.83.56/29', 'US', 'Milton'],
]

/** An IPv4 address as an unsigned 32-bit number, or undefined when `s` is not one. */
export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (!m) return undefined
  const parts = m.slice(1).map(Number)
  if (parts.some((p) => p > 255)) return undefined
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!
}

interface Range {
  start: number
  end: number
  place: Place
}

/** Ranges sorted by start, for a binary search. */
const TABLE: Range[] = RANGES.map(([cidr, country, city]) => {
  const [addr, bits] = cidr.split('/')
  const size = 2 ** (32 - Number(bits))
  const start = parseIPv4(addr!)!
  return { start, end: start + size - 1, place: { country, city } }
}).sort((a, b) => a.start - b.start)

export function lookup(ip: number): Place | undefined {
  let lo = 0
  let hi = TABLE.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const r = TABLE[mid]!
    if (ip < r.start) hi = mid - 1
    else if (ip > r.end) lo = mid + 1
    else return r.place
  }
  return undefined
}
