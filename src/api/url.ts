import { checkEndpointUrl } from '../domain/network.ts';
import type { Environment } from '../domain/types.ts';
import { AppError } from '../errors.ts';

/**
 * Checks a URL a partner gave (endpoint, `webhook_url`, OAuth2 token URL) and returns it
 * normalised, so that the same URL registered in two places compares equal.
 */
export function validUrl(
  url: string,
  environment: Environment,
  allowPrivateNetworks: boolean,
  path = '/url',
): string {
  const check = checkEndpointUrl(url, environment, allowPrivateNetworks);
  if (!check.ok) throw new AppError(422, check.code, check.message, [{ path, message: check.message }]);
  return check.url;
}
