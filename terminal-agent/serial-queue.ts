/**
 * Runs async jobs one at a time, in call order. The recorder and the re-sequencer share one: a
 * record assigns seq and prev from the head the previous job left, so a re-sequence must never
 * run between reading the head and appending (the append would then not follow the head).
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(job);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
