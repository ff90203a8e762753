/** `npm start`: the whole system on one machine (placeholder until the forwarder issue lands). */
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('not implemented yet\n');
  return 1;
}
