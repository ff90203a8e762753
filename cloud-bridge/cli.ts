/** CLI entry of this program (placeholder until its issue lands). */
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('not implemented yet\n');
  return 1;
}
