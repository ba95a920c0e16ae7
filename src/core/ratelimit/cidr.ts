/**
 * IP addresses and CIDR blocks, IPv4 and IPv6, as 16 bytes. IPv4 lives in the IPv4-mapped
 * range (::ffff:a.b.c.d), so `10.0.0.0/8` matches a client the socket reports as
 * `::ffff:10.1.2.3`, and `::ffff:10.0.0.0/104` means the same block.
 */

export interface Cidr {
  readonly bytes: Uint8Array;
  /** Prefix length over the 128-bit form. */
  readonly bits: number;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(text: string, out: Uint8Array, at: number): boolean {
  const m = V4.exec(text);
  if (!m) return false;
  for (let i = 0; i < 4; i++) {
    const part = m[i + 1]!;
    if (part.length > 1 && part.startsWith('0')) return false;
    const v = Number(part);
    if (v > 255) return false;
    out[at + i] = v;
  }
  return true;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  for (const g of text.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    groups.push(parseInt(g, 16));
  }
  return groups;
}

function parseV6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  let body = text;
  let tailV4 = false;
  const lastColon = body.lastIndexOf(':');
  if (lastColon >= 0 && body.indexOf('.', lastColon) > 0) {
    if (!parseV4(body.slice(lastColon + 1), out, 12)) return undefined;
    tailV4 = true;
    body = body.slice(0, lastColon + 1) + '0:0';
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    if (tailV4 && i >= 6) break;
    out[i * 2] = groups[i]! >> 8;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** A client address as 16 bytes, or undefined when it is not an IP address. */
export function parseIp(text: string): Uint8Array | undefined {
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = t.indexOf('%');
  const addr = zone >= 0 ? t.slice(0, zone) : t;
  if (addr.includes(':')) return parseV6(addr);
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  return parseV4(addr, out, 12) ? out : undefined;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a single address (a /32 or /128). Undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseIp(addrText);
  if (!bytes) return undefined;
  const v4 = !addrText.includes(':');
  const max = v4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    len = Number(p);
    if (len > max) return undefined;
  }
  const bits = v4 ? len + 96 : len;
  // Normalise: clear the host bits, so equality of blocks is equality of bytes.
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return { bytes, bits };
}

export function cidrContains(block: Cidr, ip: Uint8Array): boolean {
  const full = block.bits >> 3;
  for (let i = 0; i < full; i++) if (block.bytes[i] !== ip[i]) return false;
  const rest = block.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[full]! & mask) === block.bytes[full];
}
