/**
 * `standard`: Standard Webhooks' recommended body `{"type","timestamp","data"}`, built by string
 * concatenation (standardBody): `data` is never parsed on this path.
 */
import { standardBody } from '../domain/payload.ts';
import { JSON_TYPE, optionsObject } from './shared.ts';
import type { Format } from './types.ts';

export const standard: Format = {
  name: 'standard',
  eventTypes: null,
  methods: ['POST', 'PUT'],
  parseOptions(options) {
    optionsObject('standard', options, []);
    return null;
  },
  checkUrl: () => null,
  render: (event, endpoint) => ({
    ok: true,
    request: {
      method: endpoint.method,
      url: endpoint.url,
      contentType: JSON_TYPE,
      body: standardBody(event),
    },
  }),
};
