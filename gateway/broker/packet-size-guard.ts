/**
 * Bounds the size of one MQTT packet before Aedes buffers it. Aedes 1.x (mqtt-packet) has no
 * maximum packet size: a client could declare a 256 MB PUBLISH ([MQTT-2.2.3] remaining length up to
 * 268,435,455) and the parser would buffer all of it. Events are at most 16 KiB (DESIGN §3.2), so:
 * packets up to `maxPacketBytes` reach the ingest pipeline, which answers an oversized event with a
 * coded TOO_LARGE reject (the terminal sets it aside instead of resending it forever); a packet
 * declaring more than that is no terminal's traffic and its connection is closed at once.
 *
 * It taps the socket with a 'data' listener: Aedes reads with 'readable' + read(), which keeps
 * control of the flow, and Node emits 'data' for each chunk read() returns, so the guard sees every
 * byte in order without buffering any (Node docs, stream "Choose one API style").
 */
import type { Socket } from 'node:net';

type Phase = 'type' | 'length' | 'body';

/** Follows MQTT fixed headers ([MQTT-2.2]) across chunk boundaries. */
export class PacketSizeTracker {
  readonly #max: number;
  #phase: Phase = 'type';
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #remaining = 0;

  constructor(maxPacketBytes: number) {
    this.#max = maxPacketBytes;
  }

  /** Feeds a chunk; returns false as soon as a packet declares more than the limit or a bad length. */
  feed(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.#phase === 'body') {
        const take = Math.min(this.#remaining, chunk.length - i);
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#phase = 'type';
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.#phase === 'type') {
        this.#phase = 'length';
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
        continue;
      }
      // [MQTT-2.2.3] variable-length encoding: 7 bits a byte, at most 4 bytes.
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#lengthBytes++;
      if (this.#length > this.#max) return false;
      if ((byte & 0x80) !== 0) {
        if (this.#lengthBytes >= 4) return false;
        continue;
      }
      this.#remaining = this.#length;
      this.#phase = this.#remaining === 0 ? 'type' : 'body';
    }
    return true;
  }
}

/** Attach after `broker.handle(socket)`, so Aedes' 'readable' listener owns the flow. */
export function guardPacketSize(socket: Socket, maxPacketBytes: number, onOversize: () => void): void {
  const tracker = new PacketSizeTracker(maxPacketBytes);
  const onData = (chunk: Buffer) => {
    if (tracker.feed(chunk)) return;
    socket.off('data', onData);
    onOversize();
    socket.destroy();
  };
  socket.on('data', onData);
}
