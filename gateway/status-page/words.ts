/**
 * Codes and states in words a field technician understands, with the code kept in brackets for
 * the support call. Unknown codes are shown as they are.
 */

const FORWARDER_STATE_WORDS: Readonly<Record<string, string>> = {
  created: 'starting',
  idle: 'idle',
  sending: 'sending',
  backoff: 'waiting to retry',
  closing: 'stopping',
  closed: 'stopped',
  'not running': 'off — no cloud configured',
};

/** The forwarder's lifecycle state in words. */
export function forwarderStateWords(state: string): string {
  return FORWARDER_STATE_WORDS[state] ?? state;
}

/** Failure codes of a forward request (gateway/forwarder/cloud-client.ts) in words. */
const CLOUD_ERROR_WORDS: Readonly<Record<string, string>> = {
  NETWORK: 'cannot reach the cloud',
  TIMEOUT: 'the cloud did not answer in time',
  LINK_CUT: 'link switched off by an admin (outage test)',
  MALFORMED_RESPONSE: 'the cloud sent a broken answer',
  ABORTED: 'request stopped',
  HTTP_401: "the cloud refused this gateway's token",
  HTTP_403: "the cloud refused this gateway's token",
  HTTP_413: 'batch too large for the cloud; sending smaller ones',
  HTTP_429: 'the cloud asked us to slow down',
};

/** `"cannot reach the cloud (NETWORK)"`, `"the cloud had an error (HTTP_503)"`. */
export function cloudErrorWords(code: string): string {
  const words = CLOUD_ERROR_WORDS[code] ?? (/^HTTP_5\d\d$/.test(code) ? 'the cloud had an error' : null);
  return words === null ? code : `${words} (${code})`;
}
