/**
 * The admin's actions on the delivery side, in one place for both doors to them: the bearer-token
 * API for scripts (routes.ts) and the page's forms for a technician's phone
 * (gateway/status-page/admin-routes.tsx).
 */
import type { ForwardQueue } from '../forward-queue.js';
import type { WanMonitor } from '../wan/wan-monitor.js';
import type { Forwarder, ForwarderState } from './forwarder.js';
import type { LinkGate } from './link-gate.js';

export interface AdminActions {
  /** Try to send now, ending any wait between retries; says what waits and the forwarder's state. */
  drain(): { readonly backlog: number; readonly state: ForwarderState };
  /** Sends refused payments again (all, or those at `positions`); resolves with how many were queued. */
  retryDeadLetters(positions?: readonly number[]): Promise<number>;
  /** Cuts the link to the cloud for `seconds` (0 restores it), and lets the monitor see it at once. */
  cutWan(seconds: number): Promise<void>;
}

export function deliveryActions(d: { readonly forwarder: Forwarder; readonly queue: ForwardQueue; readonly monitor: WanMonitor; readonly gate: LinkGate }): AdminActions {
  return {
    drain() {
      d.forwarder.wake('force');
      void d.monitor.probeNow();
      return { backlog: d.queue.backlog().events, state: d.forwarder.state };
    },
    retryDeadLetters: (positions) => d.forwarder.retryDeadLetters(positions === undefined ? undefined : [...positions]),
    async cutWan(seconds) {
      d.gate.cutFor(seconds);
      // Cut: offline at once; restored: online, and the forwarder wakes.
      await d.monitor.probeNow();
    },
  };
}
