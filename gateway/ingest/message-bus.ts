/**
 * How the gateway publishes its own MQTT messages (acks, rejects, status): an edge interface
 * so the ingest pipeline does not hold the broker. These publishes are internal: they do
 * not pass the terminal ACL.
 */
import type { Aedes } from 'aedes';

export interface PublishOptions {
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

export interface MessageBus {
  publish(topic: string, message: unknown, options: PublishOptions): Promise<void>;
}

export function aedesBus(broker: Aedes): MessageBus {
  return {
    publish: (topic, message, { qos, retain }) =>
      new Promise((resolve, reject) => {
        const payload = Buffer.from(JSON.stringify(message), 'utf8');
        broker.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err?: Error) => (err ? reject(err) : resolve()));
      }),
  };
}
