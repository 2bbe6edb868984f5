import dns, { type LookupAddress } from 'node:dns';
import net from 'node:net';
import type { buildConnector } from 'undici';
import { blockedReason } from '../domain/network.ts';

/** The network guard refused a destination; classified as `blocked_address`. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_ARAUTO_BLOCKED_ADDRESS';

  constructor(host: string, address: string, reason: string) {
    super(
      host === address
        ? `${address} is not a public address: ${reason}`
        : `${host} resolves to ${address}, which is not a public address: ${reason}`,
    );
  }
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls.connect that resolves once and refuses the host if any address is not
 * public. The socket then connects to an address this function vetted, so there is no second
 * resolution an attacker's DNS could answer differently (DNS rebinding).
 */
export function guardedLookup(
  hostname: string,
  options: { family?: number | string; hints?: number; all?: boolean },
  callback: LookupCallback,
): void {
  const family = options.family === 'IPv6' ? 6 : options.family === 'IPv4' ? 4 : Number(options.family ?? 0);
  dns.lookup(hostname, { all: true, family, hints: options.hints ?? 0 }, (error, addresses) => {
    if (error) return callback(error, []);
    for (const { address } of addresses) {
      const reason = blockedReason(address);
      if (reason) return callback(new BlockedAddressError(hostname, address, reason), []);
    }
    const [first] = addresses;
    if (options.all) return callback(null, addresses);
    if (!first)
      return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    return callback(null, first.address, first.family);
  });
}

/**
 * Wraps an undici connector so literal IP destinations are vetted too: Node calls `lookup`
 * only for names, never for `https://169.254.169.254/`.
 */
export function guardedConnector(connect: buildConnector.connector): buildConnector.connector {
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host) !== 0) {
      const reason = blockedReason(host);
      if (reason) return callback(new BlockedAddressError(host, host, reason), null);
    }
    return connect(options, callback);
  };
}
