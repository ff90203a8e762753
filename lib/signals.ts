/** Process lifecycle helpers shared by the long-running commands. */

/**
 * Resolves with the first SIGTERM or SIGINT, then stops listening, so a second signal gets Node's
 * default behaviour (an operator's second Ctrl-C kills a shutdown that hangs).
 */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
