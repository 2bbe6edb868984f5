import ipaddr from 'ipaddr.js';
import type { Environment } from './types.ts';

/**
 * Which destinations a webhook may reach. A lender's partner registers any URL it likes; without
 * this guard that URL could point Arauto at the lender's own network or the cloud metadata
 * service (SSRF). The ranges follow ../shared/guides/webhook-facts.md.
 */

type Range = readonly [cidr: string, reason: string];

const BLOCKED_V4: readonly Range[] = [
  ['0.0.0.0/8', '"this network" (0.0.0.0/8)'],
  ['10.0.0.0/8', 'private network (10.0.0.0/8)'],
  ['100.64.0.0/10', 'carrier-grade NAT (100.64.0.0/10)'],
  ['127.0.0.0/8', 'loopback (127.0.0.0/8)'],
  ['169.254.0.0/16', 'link-local / cloud metadata (169.254.0.0/16)'],
  ['172.16.0.0/12', 'private network (172.16.0.0/12)'],
  ['192.0.0.0/24', 'IETF protocol assignments (192.0.0.0/24)'],
  ['192.0.2.0/24', 'documentation (192.0.2.0/24)'],
  ['192.88.99.0/24', '6to4 relay anycast (192.88.99.0/24)'],
  ['192.168.0.0/16', 'private network (192.168.0.0/16)'],
  ['198.18.0.0/15', 'benchmarking (198.18.0.0/15)'],
  ['198.51.100.0/24', 'documentation (198.51.100.0/24)'],
  ['203.0.113.0/24', 'documentation (203.0.113.0/24)'],
  ['224.0.0.0/4', 'multicast (224.0.0.0/4)'],
  ['240.0.0.0/4', 'reserved (240.0.0.0/4)'],
  ['255.255.255.255/32', 'broadcast'],
];

const BLOCKED_V6: readonly Range[] = [
  ['::/128', 'unspecified (::)'],
  ['::1/128', 'loopback (::1)'],
  ['fe80::/10', 'link-local (fe80::/10)'],
  ['fc00::/7', 'unique local (fc00::/7)'],
  ['ff00::/8', 'multicast (ff00::/8)'],
  ['2001:db8::/32', 'documentation (2001:db8::/32)'],
];

const parseRanges = <T extends ipaddr.IPv4 | ipaddr.IPv6>(ranges: readonly Range[]) =>
  ranges.map(([cidr, reason]) => ({ range: ipaddr.parseCIDR(cidr) as [T, number], reason }));

const V4 = parseRanges<ipaddr.IPv4>(BLOCKED_V4);
const V6 = parseRanges<ipaddr.IPv6>(BLOCKED_V6);
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number];
const SIX_TO_FOUR = ipaddr.parseCIDR('2002::/16') as [ipaddr.IPv6, number];
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];

function v4Reason(address: ipaddr.IPv4): string | null {
  for (const { range, reason } of V4) if (address.match(range)) return reason;
  return null;
}

function embeddedV4(bytes: number[], offset: number): ipaddr.IPv4 {
  return new ipaddr.IPv4(bytes.slice(offset, offset + 4));
}

/**
 * Why an IP address may not be a webhook destination, or null when it is a public address.
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address it carries, as are the
 * IPv4 addresses inside NAT64 and 6to4 prefixes.
 *
 * @example blockedReason('169.254.169.254') // 'link-local / cloud metadata (169.254.0.0/16)'
 */
export function blockedReason(ip: string): string | null {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return 'not an IP address';
  const address = ipaddr.process(bare); // unwraps IPv4-mapped IPv6
  if (address.kind() === 'ipv4') return v4Reason(address as ipaddr.IPv4);
  const v6 = address as ipaddr.IPv6;
  if (v6.match(NAT64)) return v4Reason(embeddedV4(v6.toByteArray(), 12));
  if (v6.match(SIX_TO_FOUR)) return v4Reason(embeddedV4(v6.toByteArray(), 2));
  for (const { range, reason } of V6) if (v6.match(range)) return reason;
  // Outside 2000::/3 lie only special-purpose blocks (IPv4-compatible, discard, ORCHID…).
  return v6.match(GLOBAL_UNICAST) ? null : 'reserved IPv6 range (outside 2000::/3)';
}

/** True for a hostname that names this machine without DNS (RFC 6761). */
const isLocalName = (hostname: string): boolean =>
  hostname === 'localhost' || hostname.endsWith('.localhost');

export type UrlCheck =
  | { ok: true; url: string }
  | { ok: false; code: 'invalid_url' | 'https_required' | 'url_not_allowed'; message: string };

/**
 * Checks an endpoint URL when it is registered. Hostnames are resolved again, and every address
 * vetted, at each delivery; here we refuse what can be refused without DNS, so the partner
 * learns at once instead of from a failed attempt.
 */
export function checkEndpointUrl(
  raw: string,
  environment: Environment,
  allowPrivateNetworks: boolean,
): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, code: 'invalid_url', message: `${JSON.stringify(raw)} is not an absolute URL.` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return {
      ok: false,
      code: 'invalid_url',
      message: `Only http and https URLs are allowed, not ${url.protocol}`,
    };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, code: 'invalid_url', message: 'Credentials in the URL are not allowed.' };
  }
  if (url.protocol === 'http:' && environment === 'production') {
    return { ok: false, code: 'https_required', message: 'Production endpoints must use https.' };
  }
  if (!allowPrivateNetworks) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const reason = ipaddr.isValid(host)
      ? blockedReason(host)
      : isLocalName(host)
        ? 'loopback (localhost)'
        : null;
    if (reason) {
      return {
        ok: false,
        code: 'url_not_allowed',
        message: `The URL points at a non-public address: ${reason}.`,
      };
    }
  }
  url.hash = '';
  return { ok: true, url: url.href };
}
